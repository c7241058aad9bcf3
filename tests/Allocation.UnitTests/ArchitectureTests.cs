using System.Reflection;
using Allocation.Application.Commands;
using Allocation.Domain;
using Allocation.Infrastructure;
using Allocation.Web;

namespace Allocation.UnitTests;

public class ArchitectureTests
{
    private static readonly Assembly Domain = typeof(Product).Assembly;
    private static readonly Assembly Application = typeof(Allocate).Assembly;
    private static readonly Assembly Infrastructure = typeof(DependencyInjection).Assembly;
    private static readonly Assembly Web = typeof(Composition).Assembly;
    private static readonly Assembly Tests = typeof(ArchitectureTests).Assembly;

    private static readonly string FrameworkDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;

    [Test]
    public void DomainReferencesOnlyMediatorAbstractionsAndTheBaseFramework()
    {
        var references = ReferencedNames(Domain);

        references.Where(name => !IsAllowedInDomain(name)).ShouldBeEmpty();
        references.ShouldContain("Mediator");
        references.ShouldContain("System.Runtime");
    }

    [Test]
    public void ApplicationReferencesNoInfrastructureOrHostPackages()
    {
        var references = ReferencedNames(Application);

        references.Where(IsForbiddenInApplication).ShouldBeEmpty();
        references.ShouldContain("Allocation.Domain");
        references.ShouldContain("FluentValidation");
    }

    [Test]
    public void InfrastructureDoesNotReferenceTheWebHost()
    {
        var references = ReferencedNames(Infrastructure);

        references.Where(IsForbiddenInInfrastructure).ShouldBeEmpty();
        references.ShouldContain("Allocation.Application");
        references.ShouldContain("Dapper");
    }

    [Test]
    public void TheLayerRulesFlagWhatTheOuterLayersReference()
    {
        var flaggedInDomain = ReferencedNames(Application).Where(name => !IsAllowedInDomain(name)).ToList();
        var flaggedInApplication = ReferencedNames(Infrastructure).Concat(ReferencedNames(Web)).Where(IsForbiddenInApplication).ToList();
        var flaggedInInfrastructure = ReferencedNames(Web).Concat(ReferencedNames(Tests)).Where(IsForbiddenInInfrastructure).ToList();

        flaggedInDomain.ShouldContain("Allocation.Domain");
        flaggedInDomain.ShouldContain("FluentValidation");
        flaggedInDomain.ShouldContain("Microsoft.Extensions.Logging.Abstractions");
        flaggedInApplication.ShouldContain("Dapper");
        flaggedInApplication.ShouldContain("Microsoft.Data.Sqlite");
        flaggedInApplication.ShouldContain("StackExchange.Redis");
        flaggedInApplication.ShouldContain("MailKit");
        flaggedInApplication.ShouldContain("Allocation.Infrastructure");
        flaggedInApplication.ShouldContain(name => name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal));
        flaggedInInfrastructure.ShouldContain("Allocation.Web");
        flaggedInInfrastructure.ShouldContain(name => name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal));
    }

    private static List<string> ReferencedNames(Assembly assembly) =>
        assembly.GetReferencedAssemblies().Select(name => name.Name!).Order(StringComparer.Ordinal).ToList();

    // The base framework is what ships in Microsoft.NETCore.App; ASP.NET Core and the Microsoft.Extensions
    // packages live elsewhere, and so does every NuGet package.
    private static bool IsAllowedInDomain(string name) =>
        name == "Mediator" || (!name.StartsWith("Allocation.", StringComparison.Ordinal) && IsBaseFramework(name));

    private static bool IsBaseFramework(string name) =>
        File.Exists(Path.Combine(FrameworkDirectory, name + ".dll"));

    private static bool IsForbiddenInApplication(string name) =>
        name is "Allocation.Infrastructure" or "Allocation.Web" or "Dapper" or "Microsoft.Data.Sqlite" or "StackExchange.Redis" or "MailKit"
        || name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal);

    private static bool IsForbiddenInInfrastructure(string name) =>
        name == "Allocation.Web" || name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal);
}
