using Lasthope.Text.EditNeed;

namespace Lasthope.Text.Tests;

/// <summary>The unit splitter that training and serving share.</summary>
public sealed class EditNeedTextTests
{
    [Fact]
    public void Units_SplitSentencesAtStops_NotAtInitialsOrAbbreviations()
    {
        const string text = "We follow J. Smith et al. and use e.g. BERT. Results improve by 3.5 points! 2 runs failed. \"Quoted.\" Done";
        var units = EditNeedText.Units(text, EditNeedLevel.Sentence);

        Assert.Equal(["We follow J. Smith et al. and use e.g. BERT.", "Results improve by 3.5 points!", "2 runs failed.", "\"Quoted.\"", "Done"],
            units.Select(u => text.Substring(u.Start, u.Length).Trim()));
        Assert.Equal(text.Length, units[^1].End);
        Assert.All(units.Zip(units.Skip(1)), p => Assert.Equal(p.First.End, p.Second.Start));
    }

    [Fact]
    public void Units_BreakParagraphsAtLineBreaks_AndSkipBlankLines()
    {
        const string text = "  First paragraph. Two sentences.\r\n\r\n\nSecond one\n   \nThird.";

        var paragraphs = EditNeedText.Units(text, EditNeedLevel.Paragraph);
        var sentences = EditNeedText.Units(text, EditNeedLevel.Sentence);

        Assert.Equal(["First paragraph. Two sentences.", "Second one", "Third."], paragraphs.Select(u => text.Substring(u.Start, u.Length)));
        Assert.Equal([0, 0, 1, 2], sentences.Select(u => u.Paragraph));
        Assert.Empty(EditNeedText.Units(" \n ", EditNeedLevel.Sentence));
    }
}
