using Allocation.UnitTests.Fakes;

namespace Allocation.UnitTests.Handlers;

/// <summary>A fresh <see cref="FakeBus"/> for each test, disposed after it.</summary>
public abstract class BusFixture
{
    protected FakeBus Bus { get; private set; } = null!;

    [SetUp]
    public void StartBus() => Bus = new FakeBus();

    [TearDown]
    public async Task StopBus() => await Bus.DisposeAsync();
}
