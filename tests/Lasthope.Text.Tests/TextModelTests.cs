using System.Text;
using System.Text.Json.Nodes;

namespace Lasthope.Text.Tests;

/// <summary>The lasthope-text/1 package: round trip, and every malformed package refused as a TextModelException.</summary>
public sealed class TextModelTests
{
    private static readonly Lazy<byte[]> Package = new(() =>
    {
        string[] texts = ["charged twice", "double charge on my card", "close my account", "terminate the account", "card not arrived", "where is my card"];
        var baseline = TfIdfBaseline.Train(TextTask.Classify, texts, [0, 0, 1, 1, 2, 2], 3, seed: 3);
        var head = new LinearHead(TextTask.Classify, 4, [0.1, -0.2, 0.3], [.. Enumerable.Range(0, 12).Select(i => (i % 5) * 0.1 - 0.2)]);
        return TextModel.Create("routing", TextTask.Classify, ["billing", "churn", "service"], 20, baseline, head, new FakeEncoder()).ToBytes();
    });

    /// <summary>A 4-dimensional stand-in: the head's maths does not depend on which encoder made the vector.</summary>
    private sealed class FakeEncoder(string name = "fake-encoder", int dimensions = 4) : ITextEncoder
    {
        public string Name => name;

        public int Dimensions => dimensions;

        public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default) =>
            [.. texts.Select(t => Enumerable.Range(0, dimensions).Select(j => (float)((t.Length + j) % 7) / 7).ToArray())];
    }

    [Fact]
    public void Load_RoundTrips_TheBaselineAndTheHead()
    {
        var bytes = Package.Value;
        Assert.True(TextModel.IsPackage(bytes));
        var model = TextModel.Load(bytes, new FakeEncoder());

        Assert.Equal("routing", model.Name);
        Assert.Equal(TextTask.Classify, model.Task);
        Assert.Equal(["billing", "churn", "service"], model.Classes);
        Assert.Equal(3, model.Outputs);
        Assert.Equal(20, model.BudgetMs);
        Assert.Equal("fake-encoder", model.EncoderName);
        Assert.Equal(TextFamily.Encoder, model.Encoder!.Family);
        Assert.Equal(bytes, model.ToBytes());
        var scores = new double[6];
        model.Encoder.Score(["close it", "charged"], scores, TestContext.Current.CancellationToken);
        Assert.Equal(1.0, scores[..3].Sum(), 1e-12);
        model.Baseline.Score(["close it", "charged"], scores, TestContext.Current.CancellationToken);
        Assert.Equal(1.0, scores[3..].Sum(), 1e-5);
    }

    [Fact]
    public void Load_WithoutAnEncoder_ServesTheBaselineOnly()
    {
        var model = TextModel.Load(Package.Value, encoder: null);

        Assert.Null(model.Encoder);
        Assert.Equal("fake-encoder", model.EncoderName);
        Assert.Equal(TextFamily.Baseline, model.Baseline.Family);
    }

    public static TheoryData<string, string> Malformed() => new()
    {
        { "not json", "not a lasthope-text/1 document" },
        { "null", "null" },
        { "{}", "format" },
        { "format=lasthope-text/2", "format" },
        { "name=", "name must not be empty" },
        { "name=a\nb", "control character" },
        { "task=rank", "task must be" },
        { "classes=one", "at least 2 classes" },
        { "classes=repeat", "repeats" },
        { "classes=too-many", "at most 1000" },
        { "budgetMs=0", "budgetMs" },
        { "baseline=!!!", "base64" },
        { "baseline=garbage", "does not load" },
        { "baseline=", "no baseline" },
        { "encoder.bias=short", "encoder.bias" },
        { "encoder.weights=short", "encoder.weights" },
        { "encoder.weights=huge", "finite" },
        { "encoder.dimensions=0", "encoder.dimensions" },
        { "truncated", "not a lasthope-text/1 document" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Load_RefusesAMalformedPackage_WithATextModelException(string change, string message)
    {
        var content = Corrupt(Package.Value, change);

        var e = Assert.Throws<TextModelException>(() => TextModel.Load(content, new FakeEncoder()));

        Assert.Contains(message, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Load_RefusesAHeadTrainedOnAnotherEncoder()
    {
        var e = Assert.Throws<TextModelException>(() => TextModel.Load(Package.Value, new FakeEncoder("all-MiniLM-L6-v2")));
        Assert.Contains("trained on encoder 'fake-encoder'", e.Message, StringComparison.Ordinal);

        e = Assert.Throws<TextModelException>(() => TextModel.Load(Package.Value, new FakeEncoder(dimensions: 8)));
        Assert.Contains("dimensions", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IsPackage_TellsATextModelFromOtherContent()
    {
        Assert.False(TextModel.IsPackage("{\"format\":\"lasthope-predictor/1\"}"u8));
        Assert.False(TextModel.IsPackage("tree\nversion=v4"u8));
        Assert.False(TextModel.IsPackage([]));
        Assert.True(TextModel.IsPackage("  {\"format\":\"lasthope-text/1\"}"u8));
    }

    private static byte[] Corrupt(byte[] package, string change)
    {
        if (change == "not json")
        {
            return "tree\nversion=v4"u8.ToArray();
        }

        if (change == "null")
        {
            return "null"u8.ToArray();
        }

        if (change == "{}")
        {
            return "{}"u8.ToArray();
        }

        if (change == "truncated")
        {
            return package[..(package.Length / 2)];
        }

        var json = JsonNode.Parse(package)!.AsObject();
        var (path, value) = (change[..change.IndexOf('=')], change[(change.IndexOf('=') + 1)..]);
        switch (path)
        {
            case "classes":
                json["classes"] = value switch
                {
                    "one" => new JsonArray("billing"),
                    "repeat" => new JsonArray("billing", "billing", "churn"),
                    _ => new JsonArray([.. Enumerable.Range(0, 1001).Select(i => (JsonNode)JsonValue.Create($"c{i}"))]),
                };
                break;
            case "budgetMs":
                json["budgetMs"] = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                break;
            case "baseline":
                json["baseline"] = value == "garbage" ? Convert.ToBase64String(Encoding.UTF8.GetBytes("PK not a zip at all")) : value;
                break;
            case "encoder.bias":
                json["encoder"]!["bias"] = new JsonArray(1.0);
                break;
            case "encoder.weights":
                json["encoder"]!["weights"] = value == "huge" ? new JsonArray([.. Enumerable.Range(0, 12).Select(i => (JsonNode)JsonValue.Create(i == 5 ? 1e300 : 0.1))]) : new JsonArray(0.1, 0.2);
                break;
            case "encoder.dimensions":
                json["encoder"]!["dimensions"] = 0;
                break;
            default:
                json[path] = value;
                break;
        }

        return Encoding.UTF8.GetBytes(json.ToJsonString());
    }
}
