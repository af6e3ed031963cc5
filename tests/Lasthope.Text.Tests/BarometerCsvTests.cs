using Lasthope.Testing;
using Lasthope.Text.Barometer;

namespace Lasthope.Text.Tests;

/// <summary>Reading dated texts from CSV: date formats, line numbers, clear errors, bounds, and the real CFPB sample.</summary>
public sealed class BarometerCsvTests
{
    private static readonly DatedTextCsvOptions Options = new() { TextColumn = "text", DateColumn = "date" };

    private static DatedTexts Read(string csv, DatedTextCsvOptions? options = null) => DatedTextCsv.Read(new StringReader(csv), options ?? Options);

    [Fact]
    public void Read_ParsesIsoAndSlashDates_AndNamesEachRowsFirstLine()
    {
        var texts = Read("id,date,text\n1,2024-03-05,up\n2,2019/9/24,\"two\nlines, and a \"\"quote\"\"\"\n3,2019/10/5,down\n4,2024-1-2,x\n5,2024-03-05T23:30:00+02:00,late\n");

        Assert.Equal(5, texts.Rows);
        Assert.Equal(
            [new DateOnly(2024, 3, 5), new DateOnly(2019, 9, 24), new DateOnly(2019, 10, 5), new DateOnly(2024, 1, 2), new DateOnly(2024, 3, 5)],
            texts.Dates());
        Assert.Equal("two\nlines, and a \"quote\"", texts.Texts[1].Text);
        Assert.Equal([2, 3, 5, 6, 7], texts.Texts.Select(t => t.Line));
    }

    [Fact]
    public void Read_SkipsRowsWithoutText_WithoutParsingTheirDate()
    {
        var texts = Read("date,text\n2024-01-01,a\nnot a date,\n,   \n2024-01-02,b\n");

        Assert.Equal(["a", "b"], texts.Texts.Select(t => t.Text));
        Assert.Equal(4, texts.Rows);
        Assert.Equal(2, texts.SkippedEmpty);
    }

    [Fact]
    public void Read_NamesTheLineAndColumn_OfABadDate()
    {
        var e = Assert.Throws<BarometerInputException>(() => Read("date,text\n2024-01-01,a\n2024-01-02,\"b\nc\"\n24/01/2024,d\n"));

        Assert.Equal(5, e.Line);
        Assert.Equal("date", e.Column);
        Assert.Contains("Line 5, column 'date': '24/01/2024'", e.Message, StringComparison.Ordinal);
        Assert.Equal(new DateOnly(2024, 1, 24), Read("date,text\n24/01/2024,d\n", Options with { DateFormats = ["d/M/yyyy"] }).Texts[0].Date);
        Assert.Throws<BarometerInputException>(() => Read("date,text\n2024-02-30,a\n"));
    }

    [Fact]
    public void Read_NamesAMissingColumn_AndTheColumnsThereAre()
    {
        var e = Assert.Throws<BarometerInputException>(() => Read("Date,text\n2024-01-01,a\n"));

        Assert.Equal(1, e.Line);
        Assert.Equal("date", e.Column);
        Assert.Contains("The date column 'date' is not in the header", e.Message, StringComparison.Ordinal);
        Assert.Contains("'Date', 'text'", e.Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<BarometerInputException>(() => Read("")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_RefusesARaggedRow_NamingItsLine()
    {
        var e = Assert.Throws<BarometerInputException>(() => Read("date,text,id\n2024-01-01,a,1\n2024-01-02,b\n"));

        Assert.Equal(3, e.Line);
        Assert.Contains("Line 3 has 2 fields, the header 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_CutsLongTexts_AndRefusesMoreRowsThanItsBound()
    {
        var emoji = "ab\U0001F600cd";
        var texts = Read($"date,text\n2024-01-01,{new string('x', 30)}\n2024-01-02,{emoji}\n2024-01-03,short\n", Options with { MaxTextLength = 3 });

        Assert.Equal(["xxx", "ab", "sho"], texts.Texts.Select(t => t.Text));
        Assert.Equal(3, texts.Truncated);
        var e = Assert.Throws<BarometerInputException>(() => Read("date,text\n2024-01-01,a\n2024-01-02,b\n2024-01-03,c\n", Options with { MaxRows = 2 }));
        Assert.Equal(4, e.Line);
    }

    [Fact]
    public void Read_TheCfpbSample_GivesItsNarrativesAndTheirMonths()
    {
        var path = Path.Combine(TestData.Require("complaints/cfpb"), "complaints_sample.csv");

        var texts = DatedTextCsv.Read(path, new DatedTextCsvOptions { TextColumn = "Consumer complaint narrative", DateColumn = "Date received" });

        // SOURCE.md: 6,623 rows, 1,532 with a narrative. Its "2015/10/1 to 2020/3/9" is the strings' sort order; as
        // dates the narratives run from 2015-04-06 to 2020-03-12 (all rows: 2015-04-06 to 2020-03-19).
        Assert.Equal(6_623, texts.Rows);
        Assert.Equal(1_532, texts.Texts.Count);
        Assert.Equal(6_623 - 1_532, texts.SkippedEmpty);
        Assert.Equal(new DateOnly(2015, 4, 6), texts.Texts.Min(t => t.Date));
        Assert.Equal(new DateOnly(2020, 3, 12), texts.Texts.Max(t => t.Date));
        Assert.Equal(5, texts.Truncated); // five narratives are longer than the 10,000-character bound (the longest 21,928)
        Assert.StartsWith("transworld systems inc.", texts.Texts[0].Text, StringComparison.Ordinal);
        Assert.Equal(new DateOnly(2019, 9, 24), texts.Texts[0].Date);

        // By month the narratives span 60 months, 44 with a narrative and 16 gaps.
        var rows = texts.Texts.Select((t, i) => BarometerRow.Labelled(t.Date, (i % 3) - 1)).ToArray();
        var points = SentimentBarometer.Aggregate(rows, new BarometerOptions { Period = BarometerPeriod.Month, Resamples = 200 }).Points;
        Assert.Equal(60, points.Count);
        Assert.Equal("2015-04", points[0].Label);
        Assert.Equal("2020-03", points[^1].Label);
        Assert.Equal(16, points.Count(p => p.IsGap));
        Assert.Equal(1_532, points.Sum(p => p.Count));
    }
}
