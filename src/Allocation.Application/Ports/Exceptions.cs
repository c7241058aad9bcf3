namespace Allocation.Application.Ports;

/// <summary>
/// Another writer changed the data this unit of work read, or holds the store's write lock; the whole
/// command is retried.
/// </summary>
public sealed class ConcurrencyException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// A store or destination cannot be reached or cannot take writes right now (the disk is full, the
/// database or Redis is down): nothing was changed and the same request can be tried again later.
/// HTTP answers 503 with <c>Retry-After</c>; the outbox waits for it without spending an entry's
/// retry budget.
/// </summary>
public sealed class UnavailableException(string message, Exception? innerException = null) : Exception(message, innerException);
