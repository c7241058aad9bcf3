using Allocation.Application;
using Allocation.Application.Bus;
using Allocation.Application.Commands;
using Allocation.Domain;

namespace Allocation.Web;

/// <summary>
/// The message bus as the service runs it. Tests that need the bus build it here and swap in fakes for
/// the ports, so they exercise the real handlers, behaviours and their order.
/// </summary>
public static class Composition
{
    public static IServiceCollection AddAllocationBus(this IServiceCollection services)
    {
        services.AddApplication();
        services.AddMediator(options =>
        {
            // One unit of work per message: a scope per HTTP request, Redis message and outbox entry.
            options.ServiceLifetime = ServiceLifetime.Scoped;
            options.Assemblies = [typeof(Product), typeof(Allocate)];

            // Outermost first.
            options.PipelineBehaviors = [typeof(LoggingBehaviour<,>), typeof(ValidationBehaviour<,>), typeof(UnitOfWorkBehaviour<,>)];
            options.NotificationPublisherType = typeof(NotificationPublisher);
        });
        return services;
    }
}
