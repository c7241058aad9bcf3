using Allocation.Application.Bus;
using Allocation.Application.Commands;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection;

namespace Allocation.Application;

public static class DependencyInjection
{
    /// <summary>
    /// Validators (found by an assembly scan) and per-message state. The mediator itself, with its
    /// handlers and behaviours, is registered by the host's source-generated <c>AddMediator</c>.
    /// </summary>
    public static IServiceCollection AddApplication(this IServiceCollection services)
    {
        // Messages name fields as the contract does: "'ref' must not be empty".
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : Rules.WireName(member.Name);
        services.AddValidatorsFromAssemblyContaining<EventContext>(ServiceLifetime.Singleton);
        services.AddScoped<EventContext>();
        return services;
    }
}
