namespace Allocation.Application.Ports;

/// <summary>
/// Another writer changed the data this unit of work read, or holds the store's write lock; the whole
/// command is retried.
/// </summary>
public sealed class ConcurrencyException(string message, Exception? innerException = null) : Exception(message, innerException);
