using System.Text.Json;
using Lasthope.Text.Barometer;

namespace Lasthope.Text.Tests;

/// <summary>From a model's labels or probabilities to polarities, and the barometer's JSON document.</summary>
public sealed class BarometerInputTests
{
    private static readonly DateOnly Day = new(2024, 3, 4);

    [Fact]
    public void FromLabels_MapsTheDefaultClasses_CaseInsensitively()
    {
        string[] labels = ["bullish", "Bearish", "neutral", "POSITIVE", "negative ", "Neutral"];
        var rows = BarometerInput.FromLabels([.. labels.Select(_ => Day)], labels, PolarityMapping.Default);

        Assert.Equal([1.0, -1, 0, 1, -1, 0], rows.Select(r => r.Polarity));
        Assert.All(rows, r => Assert.Equal(Day, r.Date));
    }

    [Fact]
    public void FromLabels_RefusesALabelTheMappingDoesNotKnow()
    {
        var e = Assert.Throws<ArgumentException>(() => BarometerInput.FromLabels([Day, Day], ["bullish", "mixed"], PolarityMapping.Default));

        Assert.Contains("Row 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("'mixed'", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => BarometerInput.FromLabels([Day], ["bullish", "bearish"], PolarityMapping.Default));
    }

    [Fact]
    public void Mapping_IsConfigurable_AndRefusesAClassWithTwoPolarities()
    {
        var stars = new PolarityMapping(["4", "5"], ["1", "2"], ["3"]);

        Assert.Equal([-1, -1, 0, 1, 1], stars.Resolve(["1", "2", "3", "4", "5"]));
        Assert.Equal([-1.0, 1], BarometerInput.FromLabels([Day, Day], ["1", "5"], stars).Select(r => r.Polarity));
        Assert.Throws<ArgumentException>(() => new PolarityMapping(["good"], ["bad", "good"], []));
        Assert.Throws<ArgumentException>(() => new PolarityMapping(["good"], [], ["meh"]));
        var unknown = Assert.Throws<ArgumentException>(() => PolarityMapping.Default.Resolve(["bearish", "bullish", "neutral", "irrelevant"]));
        Assert.Contains("'irrelevant'", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => PolarityMapping.Default.Resolve(["bullish", "neutral"]));
    }

    [Fact]
    public void FromProbabilities_TakesTheMostLikelyClass_OrTheExpectedPolarity()
    {
        string[] classes = ["bearish", "bullish", "neutral"];
        double[] p =
        [
            0.2, 0.5, 0.3,   // bullish
            0.4, 0.35, 0.25, // bearish
            0.3, 0.3, 0.4,   // neutral
            0.4, 0.4, 0.2,   // a tie: the first in class order, bearish
        ];
        DateOnly[] dates = [Day, Day, Day, Day.AddDays(1)];

        var hard = BarometerInput.FromProbabilities(dates, p, classes, PolarityMapping.Default);
        Assert.Equal([1.0, -1, 0, -1], hard.Select(r => r.Polarity));

        var soft = BarometerInput.FromProbabilities(dates, p, classes, PolarityMapping.Default, PolarityRule.Expected);
        Assert.Equal([0.3, -0.05, 0.0, 0.0], soft.Select(r => Math.Round(r.Polarity, 12)));
        Assert.Equal(0.5, soft[0].Positive);
        Assert.Equal(0.2, soft[0].Negative);

        // Under the expected rule the index is the mean expected share: (0.3 - 0.05 + 0) / 3 on the first day.
        var point = SentimentBarometer.Aggregate(soft, new BarometerOptions { Period = BarometerPeriod.Day }).Points[0];
        Assert.Equal(0.25 / 3, point.Index!.Value, 12);
        Assert.Equal((0.5 + 0.35 + 0.3) / 3, point.PositiveShare!.Value, 12);
    }

    [Fact]
    public void FromProbabilities_RefusesRowsThatAreNotDistributions()
    {
        string[] classes = ["bearish", "bullish", "neutral"];

        Assert.Contains("sum to", Assert.Throws<ArgumentException>(() => BarometerInput.FromProbabilities([Day], [0.5, 0.5, 0.5], classes, PolarityMapping.Default)).Message, StringComparison.Ordinal);
        Assert.Contains("Row 1", Assert.Throws<ArgumentException>(() => BarometerInput.FromProbabilities([Day, Day], [0, 1, 0, double.NaN, 1, 0], classes, PolarityMapping.Default)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => BarometerInput.FromProbabilities([Day, Day], [0, 1, 0], classes, PolarityMapping.Default));
    }

    [Fact]
    public void Json_HasEveryPointInOrder_WithGapsAsNulls_AndReadsBack()
    {
        var rows = new[] { BarometerRow.Labelled(new DateOnly(2024, 1, 1), 1), BarometerRow.Labelled(new DateOnly(2024, 1, 2), -1), BarometerRow.Labelled(new DateOnly(2024, 1, 15), 0) };
        var result = SentimentBarometer.Aggregate(rows, new BarometerOptions { Period = BarometerPeriod.Week, SmoothingWindow = 2 });
        var description = new BarometerDescription(Model: "sentiment-1", Input: "news.csv", TextColumn: "text", DateColumn: "date", Mapping: PolarityMapping.Default.ToString());

        var json = BarometerJson.Serialize(result, description);
        using var parsed = JsonDocument.Parse(json);
        var root = parsed.RootElement;
        Assert.Equal("lasthope.barometer", root.GetProperty("format").GetString());
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal("week", root.GetProperty("period").GetString());
        Assert.Equal("mostLikely", root.GetProperty("polarity").GetString());
        Assert.Equal(3, root.GetProperty("texts").GetInt32());
        var points = root.GetProperty("points").EnumerateArray().ToArray();
        Assert.Equal(["2024-W01", "2024-W02", "2024-W03"], points.Select(p => p.GetProperty("label").GetString()));
        Assert.Equal("2024-01-01", points[0].GetProperty("start").GetString());
        Assert.Equal("2024-01-07", points[0].GetProperty("end").GetString());
        Assert.Equal(2, points[0].GetProperty("count").GetInt32());
        Assert.Equal(0.0, points[0].GetProperty("index").GetDouble());
        Assert.Equal(0, points[1].GetProperty("count").GetInt32());
        Assert.Equal(JsonValueKind.Null, points[1].GetProperty("index").ValueKind);
        Assert.Equal(JsonValueKind.Null, points[1].GetProperty("lower").ValueKind);

        var back = BarometerJson.Deserialize(json);
        Assert.Equal("sentiment-1", back.Model);
        Assert.Equal(result.Points.Select(p => p.Index), back.Points.Select(p => p.Index));
        Assert.Equal(result.Points.Select(p => p.Upper), back.Points.Select(p => p.Upper));
        Assert.DoesNotContain("\"model\"", BarometerJson.Serialize(result), StringComparison.Ordinal);
        Assert.Throws<JsonException>(() => BarometerJson.Deserialize(json.Replace("\"version\": 1", "\"version\": 2", StringComparison.Ordinal)));
    }
}
