using Allocation.Domain;

namespace Allocation.UnitTests.Domain;

public class ChangeIdTests
{
    [TestCase("1733112000123-0", 1733112000123L, 0L)]
    [TestCase("5-17", 5L, 17L)]
    public void ReadsAStreamEntryId(string text, long milliseconds, long sequence)
    {
        ChangeId.TryParse(text, out var id).ShouldBeTrue();

        id.ShouldBe(new ChangeId(milliseconds, sequence));
        id.ToString().ShouldBe(text);
    }

    [TestCase(null)]
    [TestCase("")]
    [TestCase("17")]
    [TestCase("-5")]
    [TestCase("5-")]
    [TestCase("a-1")]
    [TestCase("1-b")]
    [TestCase("+1-2")]
    [TestCase("1--2")]
    public void RefusesWhatIsNotOne(string? text)
    {
        ChangeId.TryParse(text, out var id).ShouldBeFalse();

        id.ShouldBe(default);
    }

    [TestCase(1, 0, 2, 0)]
    [TestCase(1, 5, 2, 0)]
    [TestCase(2, 0, 2, 1)]
    public void OrdersByMillisecondsThenSequence(long earlierMs, long earlierSeq, long laterMs, long laterSeq)
    {
        var earlier = new ChangeId(earlierMs, earlierSeq);
        var later = new ChangeId(laterMs, laterSeq);
        var same = new ChangeId(earlierMs, earlierSeq);

        (earlier < later, earlier <= later, earlier > later, earlier >= later).ShouldBe((true, true, false, false));
        (later < earlier, later <= earlier, later > earlier, later >= earlier).ShouldBe((false, false, true, true));
        (earlier < same, earlier <= same, earlier > same, earlier >= same).ShouldBe((false, true, false, true));
    }
}
