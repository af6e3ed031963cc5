using System.Text.RegularExpressions;
using Lasthope.Cli.Charts;
using Lasthope.Text.Barometer;

namespace Lasthope.Cli.Tests;

/// <summary>The barometer's page: self-contained, with the charts, every period in the table, and gaps shown as gaps.</summary>
public sealed partial class BarometerHtmlTests
{
    private static readonly DateTimeOffset Generated = new(2026, 12, 3, 10, 30, 0, TimeSpan.Zero);

    private static BarometerResult Weeks()
    {
        var rows = new List<BarometerRow>();
        var random = new Random(5);
        for (var week = 0; week < 12; week++)
        {
            if (week == 5)
            {
                continue; // a week without texts
            }

            for (var i = 0; i < 10 + (week * 7); i++)
            {
                rows.Add(BarometerRow.Labelled(new DateOnly(2024, 1, 1).AddDays((7 * week) + random.Next(7)), random.Next(3) - 1));
            }
        }

        rows.Add(BarometerRow.Labelled(new DateOnly(2024, 4, 1), 1)); // a single text after a gap: its own run
        return SentimentBarometer.Aggregate(rows, new BarometerOptions { Period = BarometerPeriod.Week, SmoothingWindow = 3, Resamples = 200 });
    }

    [Fact]
    public void Render_DrawsTheIndexAndTheCounts_AndTabulatesEveryPeriod()
    {
        var result = Weeks();
        var description = new BarometerDescription(Model: "sentiment <v1>", Input: "news.csv", TextColumn: "text", DateColumn: "date", Mapping: PolarityMapping.Default.ToString());

        var html = BarometerHtml.Render(result, description, Generated);

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        Assert.Equal(2, SvgTag().Count(html));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("sentiment &lt;v1&gt;", html, StringComparison.Ordinal);
        Assert.Contains("Sentiment barometer of news.csv", html, StringComparison.Ordinal);
        Assert.Equal(result.Points.Count, TableRow().Count(html) - 1);
        Assert.Contains("<tr class=\"gap\"><td>2024-W06</td><td>2024-02-05</td><td>0</td><td colspan=\"4\">no texts</td></tr>", html, StringComparison.Ordinal);
        var first = result.Points[0];
        Assert.Contains(FormattableString.Invariant($"<td>2024-W01</td><td>2024-01-01</td><td>10 *</td><td>{first.PositiveShare:P1}</td>"), html, StringComparison.Ordinal);
        Assert.Contains("2 of them without texts", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_OfNoTexts_SaysSo()
    {
        var html = BarometerHtml.Render(SentimentBarometer.Aggregate([], new BarometerOptions()), new BarometerDescription(), Generated);

        Assert.Contains("nothing to draw", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<svg", html, StringComparison.Ordinal);
    }

    [GeneratedRegex("<svg[ >]")]
    private static partial Regex SvgTag();

    [GeneratedRegex("<tr[ >]")]
    private static partial Regex TableRow();

    /// <summary>Writes the page to LASTHOPE_BAROMETER_HTML when set, to look at.</summary>
    [Fact]
    public void Render_WritesAPageToLookAt_WhenAsked()
    {
        if (Environment.GetEnvironmentVariable("LASTHOPE_BAROMETER_HTML") is { Length: > 0 } path)
        {
            File.WriteAllText(path, BarometerHtml.Render(Weeks(), new BarometerDescription(Model: "sentiment-1", Input: "news.csv"), Generated));
        }
    }
}
