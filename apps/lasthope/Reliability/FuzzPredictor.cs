using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Lasthope.Server.Predict;
using Lasthope.Trees.Native;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The predictor the fuzz drill's server serves at /v1/predict/fz-credit: a small binary LightGBM model over a number,
/// a number with missing values and a category, with a scorecard fallback, trained here by native LightGBM (seeded).
/// </summary>
internal static class FuzzPredictor
{
    public const string Name = "fz-credit";

    public const string Path = "/v1/predict/" + Name;

    public static readonly string[] Regions = ["north", "south", "east"];

    public static PredictorPackage Package()
    {
        var random = new Random(7);
        const int rows = 600;
        var x = new double[rows * 3];
        var y = new float[rows];
        for (var r = 0; r < rows; r++)
        {
            x[r * 3] = random.NextDouble() * 100;
            x[r * 3 + 1] = random.NextDouble() < 0.1 ? double.NaN : random.Next(60);
            x[r * 3 + 2] = random.Next(3);
            y[r] = x[r * 3] / 100 + (x[r * 3 + 2] == 1 ? 0.3 : 0) + random.NextDouble() * 0.5 > 0.9 ? 1 : 0;
        }

        var options = new LightGbmTrainingOptions
        {
            Objective = LightGbmObjective.Binary,
            Iterations = 20,
            NumLeaves = 7,
            MinDataInLeaf = 10,
            CategoricalFeatures = [2],
            FeatureNames = ["income", "months", "region"],
            Threads = 1,
            Seed = 1,
        };
        var model = LightGbmTrainer.Train(options, new TrainingData(x, rows, 3, y)).ModelText;
        return new PredictorPackage
        {
            Name = Name,
            Task = PredictionTask.Binary,
            Features = [new("income"), new("months"), new("region", Regions)],
            Classes = ["good", "bad"],
            Threshold = 0.4,
            PositiveDecision = "refuse",
            NegativeDecision = "approve",
            Model = model,
            Fallback = new PredictorFallback("scorecard", new Scorecard([-0.5], [new("income", null, [0.8], 50, 29), new("region", "south", [0.4], Share: 0.33)])),
        };
    }

    /// <summary>Registers and activates the predictor on the drill's server.</summary>
    public static async Task RegisterAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(Package().ToBytes());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync("/v1/models?activate=true", content, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"The fuzz drill's predictor was refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    /// <summary>A valid body: one row, or a few, with a number, a maybe-missing number and a region (sometimes unseen).</summary>
    public static JsonObject Body(Random r)
    {
        JsonObject Row() => new()
        {
            ["income"] = Math.Round(r.NextDouble() * 100, 2),
            ["months"] = r.Next(5) == 0 ? null : r.Next(60),
            ["region"] = r.Next(6) == 0 ? "atlantis" : Regions[r.Next(Regions.Length)],
        };
        var body = r.Next(3) == 0
            ? new JsonObject { ["rows"] = new JsonArray([.. Enumerable.Range(0, r.Next(1, 6)).Select(_ => (JsonNode)new JsonObject { ["features"] = Row() })]) }
            : new JsonObject { ["features"] = Row() };
        body["explain"] = r.Next(6);
        body["counterfactual"] = r.Next(2) == 0;
        return body;
    }
}
