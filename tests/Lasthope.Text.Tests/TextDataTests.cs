using Lasthope.Testing;

namespace Lasthope.Text.Tests;

/// <summary>Reading labelled texts: bad files named precisely, texts cut and counted, the CFPB sample with its quoted newlines.</summary>
public sealed class TextDataTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lasthope-text-" + Guid.NewGuid().ToString("N"));

    public TextDataTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string content)
    {
        var path = Path.Combine(_dir, "data.csv");
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Read_NamesAMissingColumn()
    {
        var e = Assert.Throws<TextDataException>(() => TextData.Read(File("body,label\nhello,a\n"), new TextReadOptions { Text = "text", Label = "label" }));
        Assert.Contains("data.csv: the text column 'text' is not in the file (its columns: body, label)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NamesTheLineOfARaggedRow()
    {
        var e = Assert.Throws<TextDataException>(() => TextData.Read(File("text,label\nhello,a\nworld,b,extra\n"), new TextReadOptions { Text = "text", Label = "label" }));
        Assert.Contains("data.csv", e.Message, StringComparison.Ordinal);
        Assert.Contains("3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_NamesTheLineAndColumnOfANonNumericLabelToRegress()
    {
        var e = Assert.Throws<TextDataException>(() => TextData.Read(File("text,rate\nhello,0.5\nworld,high\n"), new TextReadOptions { Text = "text", Label = "rate", Task = TextTask.Regress }));
        Assert.Contains("data.csv: line 3, column 'rate': 'high' is not a finite number", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_CutsLongTexts_SkipsEmptyRows_AndSaysSo()
    {
        var data = TextData.Read(File($"text,label\n{new string('x', 50)},a\n,b\nshort,\nok,b\n"), new TextReadOptions { Text = "text", Label = "label", MaxTextLength = 10 });

        Assert.Equal(["xxxxxxxxxx", "ok"], data.Texts);
        Assert.Equal(["a", "b"], data.Labels);
        Assert.Contains(data.Notes, n => n.Contains("1 texts were cut to 10 characters", StringComparison.Ordinal));
        Assert.Contains(data.Notes, n => n.Contains("1 rows without a text and 1 without a label were skipped", StringComparison.Ordinal));
    }

    [Fact]
    public void Read_MapsLabels_AndRefusesAnUnmappedOne()
    {
        var path = File("text,label\nup,1\ndown,0\nflat,2\n");
        var map = new Dictionary<string, string> { ["0"] = "bearish", ["1"] = "bullish", ["2"] = "neutral" };

        Assert.Equal(["bullish", "bearish", "neutral"], TextData.Read(path, new TextReadOptions { Text = "text", Label = "label", LabelMap = map }).Labels);
        map.Remove("2");
        var e = Assert.Throws<TextDataException>(() => TextData.Read(path, new TextReadOptions { Text = "text", Label = "label", LabelMap = map }));
        Assert.Contains("line 4, column 'label': the label map has no entry for '2'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Cfpb_ReadsEveryNarrative_AndEveryIssueHasAGroup()
    {
        var path = TestData.Require("complaints/cfpb/complaints_sample.csv");

        var products = TextData.Read(path, new TextReadOptions { Text = "Consumer complaint narrative", Label = "Product" });
        var issues = TextData.Read(path, new TextReadOptions { Text = "Consumer complaint narrative", Label = "Issue" });
        var everyIssue = TextData.Read(path, new TextReadOptions { Text = "Issue", Label = "Issue" });

        Assert.Equal(1_532, products.Rows); // SOURCE.md: 1,532 rows with a narrative, some of them spanning lines
        Assert.Equal(1_532, issues.Rows);
        Assert.Contains(products.Notes, n => n.Contains("texts were cut to 2,000 characters", StringComparison.Ordinal));
        Assert.DoesNotContain(everyIssue.Labels.Distinct(), i => ComplaintIssueGroups.Of(i) == ComplaintIssueGroups.Other);
        Assert.Equal(86, everyIssue.Labels.Distinct().Count());
        Assert.Equal(ComplaintIssueGroups.Table.Count, ComplaintIssueGroups.Table.Keys.Distinct().Count());
    }
}
