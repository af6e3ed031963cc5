using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Server.Predict;
using Lasthope.Trees.Native;

namespace Lasthope.Server.Tests;

/// <summary>
/// POST /v1/predict/{name} over loopback against a real server: scores equal lib_lightgbm's for binary, regression and
/// multiclass predictors; reasons add up to the raw score; the decision follows the threshold; the fallback answers
/// on a model error or past the budget, with its own reasons; bad input is a 400 naming the field.
/// </summary>
public sealed class PredictApiTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    internal static async Task<JsonElement> RegisterAsync(LoopbackServer server, PredictorPackage package, bool activate = true)
    {
        using var content = new ByteArrayContent(package.ToBytes());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await server.Client.PostAsync($"/v1/models?activate={(activate ? "true" : "false")}", content, Token);
        var body = await response.Content.ReadAsStringAsync(Token);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> PredictAsync(LoopbackServer server, string name, object request)
    {
        using var response = await server.Client.PostAsJsonAsync($"/v1/predict/{name}", request, Token);
        var body = await response.Content.ReadAsStringAsync(Token);
        return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    /// <summary>A row of <see cref="TestPredictors.Sample"/> as a request's named values: categories by name, missing as null.</summary>
    internal static Dictionary<string, object?> Named(double[] x, int row) => new()
    {
        ["income"] = x[row * 4],
        ["residence_permit_months"] = double.IsNaN(x[row * 4 + 1]) ? null : x[row * 4 + 1],
        ["region"] = TestPredictors.Regions[(int)x[row * 4 + 2]],
        ["permit"] = double.IsNaN(x[row * 4 + 3]) ? null : TestPredictors.Permits[(int)x[row * 4 + 3]],
    };

    [Fact]
    public async Task Binary_ScoresAsLibLightgbm_DecidesByTheThreshold_AndItsReasonsAddUpToTheRawScore()
    {
        await using var server = await LoopbackServer.StartAsync();
        var registered = await RegisterAsync(server, TestPredictors.Binary());
        Assert.Equal("predictor", registered.GetProperty("kind").GetString());
        var x = TestPredictors.Sample(40, seed: 11);
        using var booster = LightGbmBooster.FromString(TestPredictors.ModelText(LightGbmObjective.Binary));
        var expected = booster.Predict(x, 40, 4, LightGbmPrediction.Normal);
        var expectedRaw = booster.Predict(x, 40, 4, LightGbmPrediction.RawScore);

        var (status, body) = await PredictAsync(server, "credit", new { rows = Enumerable.Range(0, 40).Select(r => new { features = Named(x, r) }), explain = 20 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("model", body.GetProperty("servedBy").GetString());
        Assert.Equal(40, body.GetProperty("modelRows").GetInt32());
        Assert.Equal("scorecard", body.GetProperty("fallback").GetString());
        var predictions = body.GetProperty("predictions").EnumerateArray().ToArray();
        var refused = 0;
        for (var r = 0; r < 40; r++)
        {
            var p = predictions[r];
            Assert.Equal("model", p.GetProperty("source").GetString());
            Assert.Equal(expected[r], p.GetProperty("score").GetDouble());
            Assert.Equal(expectedRaw[r], p.GetProperty("rawScore").GetDouble());
            Assert.Equal(expected[r] >= 0.3 ? "refuse" : "approve", p.GetProperty("decision").GetString());
            refused += expected[r] >= 0.3 ? 1 : 0;
            var reasons = p.GetProperty("reasons").EnumerateArray().ToArray();
            var sum = p.GetProperty("baseValue").GetDouble() + reasons.Sum(c => c.GetProperty("contribution").GetDouble());
            Assert.Equal(expectedRaw[r], sum, 1e-9);
            Assert.True(reasons.Select(c => Math.Abs(c.GetProperty("contribution").GetDouble())).SequenceEqual(reasons.Select(c => Math.Abs(c.GetProperty("contribution").GetDouble())).OrderDescending()),
                "reasons are ordered by |contribution|");
            foreach (var reason in reasons.Where(c => c.GetProperty("feature").GetString() == "residence_permit_months"))
            {
                var phrase = reason.GetProperty("phrase").GetString();
                Assert.Equal(reason.GetProperty("contribution").GetDouble() > 0 ? "a short residence permit raises the risk" : "a long residence permit lowers the risk", phrase);
            }

            var region = reasons.FirstOrDefault(c => c.GetProperty("feature").GetString() == "region");
            if (region.ValueKind == JsonValueKind.Object)
            {
                Assert.Equal(TestPredictors.Regions[(int)x[r * 4 + 2]], region.GetProperty("value").GetString());
            }
        }

        Assert.InRange(refused, 1, 39); // both decisions occur, so the threshold is exercised
    }

    [Fact]
    public async Task TopFiveReasons_AreTheLargestContributions_WithDefaultPhrases()
    {
        await using var server = await LoopbackServer.StartAsync();
        await RegisterAsync(server, TestPredictors.Binary());
        var x = TestPredictors.Sample(1, seed: 5);
        var (_, all) = await PredictAsync(server, "credit", new { features = Named(x, 0), explain = 20 });
        var (_, two) = await PredictAsync(server, "credit", new { features = Named(x, 0), explain = 2 });
        var allReasons = all.GetProperty("predictions")[0].GetProperty("reasons").EnumerateArray().ToArray();
        var twoReasons = two.GetProperty("predictions")[0].GetProperty("reasons").EnumerateArray().ToArray();
        Assert.Equal(2, twoReasons.Length);
        Assert.Equal(allReasons.Take(2).Select(r => r.GetProperty("feature").GetString()), twoReasons.Select(r => r.GetProperty("feature").GetString()));
        var income = allReasons.First(r => r.GetProperty("feature").GetString() == "income");
        Assert.Equal(income.GetProperty("contribution").GetDouble() > 0 ? "raises the risk" : "lowers the risk", income.GetProperty("phrase").GetString());
    }

    [Theory]
    [InlineData(LightGbmObjective.Regression)]
    [InlineData(LightGbmObjective.Multiclass)]
    public async Task RegressionAndMulticlass_ScoreAsLibLightgbm(LightGbmObjective objective)
    {
        await using var server = await LoopbackServer.StartAsync();
        // A budget no machine load exhausts: the parity asserted is the model's, and a loaded CI host can time a 50 ms budget out.
        var package = (objective == LightGbmObjective.Regression ? TestPredictors.Regression() : TestPredictors.Multiclass()) with { BudgetMs = 10_000 };
        await RegisterAsync(server, package);
        var x = TestPredictors.Sample(25, seed: 13);
        using var booster = LightGbmBooster.FromString(package.Model);
        var expected = booster.Predict(x, 25, 4, LightGbmPrediction.Normal);
        var expectedRaw = booster.Predict(x, 25, 4, LightGbmPrediction.RawScore);

        var (status, body) = await PredictAsync(server, package.Name, new { rows = Enumerable.Range(0, 25).Select(r => new { features = Named(x, r) }), explain = 20 });

        Assert.Equal(HttpStatusCode.OK, status);
        var predictions = body.GetProperty("predictions").EnumerateArray().ToArray();
        for (var r = 0; r < 25; r++)
        {
            var p = predictions[r];
            if (objective == LightGbmObjective.Regression)
            {
                Assert.Equal(expected[r], p.GetProperty("score").GetDouble());
                Assert.True(!p.TryGetProperty("decision", out var decision) || decision.ValueKind == JsonValueKind.Null);
                Assert.Equal(expectedRaw[r], p.GetProperty("baseValue").GetDouble() + p.GetProperty("reasons").EnumerateArray().Sum(c => c.GetProperty("contribution").GetDouble()), 1e-9);
                continue;
            }

            var probabilities = package.Classes.Select(c => p.GetProperty("probabilities").GetProperty(c).GetDouble()).ToArray();
            Assert.Equal(expected.AsSpan(r * 3, 3).ToArray(), probabilities);
            var best = Array.IndexOf(probabilities, probabilities.Max());
            Assert.Equal(package.Classes[best], p.GetProperty("decision").GetString());
            Assert.Equal(probabilities[best], p.GetProperty("score").GetDouble());

            // The reasons explain the decided class: they add up to that class's raw score.
            Assert.Equal(expectedRaw[r * 3 + best], p.GetProperty("rawScore").GetDouble());
            Assert.Equal(expectedRaw[r * 3 + best], p.GetProperty("baseValue").GetDouble() + p.GetProperty("reasons").EnumerateArray().Sum(c => c.GetProperty("contribution").GetDouble()), 1e-9);
        }
    }

    [Fact]
    public async Task UnseenCategory_IsScoredAsMissing_AndANumberNamesACategory()
    {
        await using var server = await LoopbackServer.StartAsync();
        await RegisterAsync(server, TestPredictors.Binary());
        async Task<double> Score(object? region, object? permit)
        {
            var (status, body) = await PredictAsync(server, "credit", new { features = new Dictionary<string, object?> { ["income"] = 31.5, ["residence_permit_months"] = 6, ["region"] = region, ["permit"] = permit }, explain = 0 });
            Assert.Equal(HttpStatusCode.OK, status);
            return body.GetProperty("predictions")[0].GetProperty("score").GetDouble();
        }

        Assert.Equal(await Score(null, "none"), await Score("atlantis", "none"));
        var x = new double[] { 31.5, 6, double.NaN, 0 };
        using var booster = LightGbmBooster.FromString(TestPredictors.ModelText(LightGbmObjective.Binary));
        Assert.Equal(booster.Predict(x, 1, 4, LightGbmPrediction.Normal)[0], await Score(null, "none"));
        Assert.NotEqual(await Score("south", "none"), await Score("north", "none"));
    }

    public static TheoryData<string, string> BadRequests => new()
    {
        { """{"features":{"colour":1}}""", "features.colour" },
        { """{"features":{"income":"high"}}""", "features.income" },
        { """{"features":{"income":1},"rows":[{"features":{"income":1}}]}""", "features" },
        { """{"rows":[]}""", "features" },
        { """{}""", "features" },
        { """{"rows":[{"features":{"income":1}},null]}""", "rows[1].features" },
        { """{"rows":[{"features":{"income":1}},{"features":{"nope":2}}]}""", "rows[1].features.nope" },
        { """{"features":{"income":1},"explain":21}""", "explain" },
        { """{"features":{"income":1},"budgetMs":0}""", "budgetMs" },
        { """{"features":{"income":1},"version":""}""", "version" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInput_IsA400NamingTheField(string json, string field)
    {
        await using var server = await LoopbackServer.StartAsync();
        await RegisterAsync(server, TestPredictors.Binary());
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await server.Client.PostAsync("/v1/predict/credit", content, Token);
        var body = await response.Content.ReadAsStringAsync(Token);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {body}");
        Assert.Contains(field, JsonDocument.Parse(body).RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }

    [Theory]
    [InlineData("""{"features":{"income":1e999}}""")]
    [InlineData("""{"features":{"income":true}}""")]
    [InlineData("""{"features":[1,2]}""")]
    [InlineData("""{"features":{"region":"\u0001"}}""")]
    [InlineData("""{"rows":{"features":{}}}""")]
    public async Task MalformedValues_AreA400_NeverA500(string json)
    {
        await using var server = await LoopbackServer.StartAsync();
        await RegisterAsync(server, TestPredictors.Binary());
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await server.Client.PostAsync("/v1/predict/credit", content, Token);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task TooManyRows_AreRefused_AndAnUnknownPredictorIsA404()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Limits:MaxPredictRows"] = "3" });
        await RegisterAsync(server, TestPredictors.Binary());
        var (status, body) = await PredictAsync(server, "credit", new { rows = Enumerable.Range(0, 4).Select(_ => new { features = new { income = 1 } }) });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(body.GetProperty("errors").TryGetProperty("rows", out _));

        (status, body) = await PredictAsync(server, "nobody", new { features = new { income = 1 } });
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.True(body.GetProperty("errors").TryGetProperty("route.name", out _));
        (status, _) = await PredictAsync(server, "credit", new { features = new { income = 1 }, version = "no-such-version" });
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task ModelError_IsAnsweredByTheScorecard_WhoseReasonsAddUp()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Serving:FaultInjection:ModelErrorFraction"] = "1" });
        await RegisterAsync(server, TestPredictors.Binary());
        var (status, body) = await PredictAsync(server, "credit", new { features = new Dictionary<string, object?> { ["income"] = 30.0, ["residence_permit_months"] = 6.0, ["region"] = "west", ["permit"] = "none" }, explain = 20 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("heuristic_fallback", body.GetProperty("servedBy").GetString());
        Assert.Equal("model_error", body.GetProperty("fallbackReason").GetString());
        Assert.Equal(0, body.GetProperty("modelRows").GetInt32());
        var p = body.GetProperty("predictions")[0];
        Assert.Equal("fallback", p.GetProperty("source").GetString());

        // The scorecard by hand: -0.5 - 0.8 (30 - 50) / 20 - 0.4 (6 - 24) / 12 + west (-0.2) + none (0.9).
        var raw = -0.5 + -0.8 * ((30.0 - 50) / 20) + -0.4 * ((6.0 - 24) / 12) - 0.2 + 0.9;
        Assert.Equal(raw, p.GetProperty("rawScore").GetDouble(), 1e-12);
        Assert.Equal(1 / (1 + Math.Exp(-raw)), p.GetProperty("score").GetDouble(), 1e-12);
        var reasons = p.GetProperty("reasons").EnumerateArray().ToArray();
        Assert.Equal(raw, p.GetProperty("baseValue").GetDouble() + reasons.Sum(r => r.GetProperty("contribution").GetDouble()), 1e-9);

        // A category's contribution is its weight less the share-weighted mean of its column's weights.
        var region = reasons.Single(r => r.GetProperty("feature").GetString() == "region").GetProperty("contribution").GetDouble();
        Assert.Equal(-0.2 - (0.2 * 0.3 + 0.25 * -0.2), region, 1e-12);
    }

    [Fact]
    public async Task ModelLatencyPastTheBudget_IsATimeout_AnsweredByTheConstant()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:FaultInjection:ModelLatencyMs"] = "2000",
            ["Lasthope:Serving:FaultInjection:ModelLatencyFraction"] = "1",
        });
        await RegisterAsync(server, TestPredictors.Binary(fallback: "constant", budgetMs: 500));
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (status, body) = await PredictAsync(server, "credit", new { features = new { income = 40 }, budgetMs = 100 });

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(1900), "the answer did not wait for the slow model");
        Assert.Equal("heuristic_fallback", body.GetProperty("servedBy").GetString());
        Assert.Equal("timeout", body.GetProperty("fallbackReason").GetString());
        Assert.Equal("constant", body.GetProperty("fallback").GetString());
        var p = body.GetProperty("predictions")[0];
        Assert.Equal(1 / (1 + Math.Exp(1.2)), p.GetProperty("score").GetDouble(), 1e-12);
        Assert.Equal("approve", p.GetProperty("decision").GetString());
        Assert.Equal(100, body.GetProperty("budgetMs").GetDouble());
    }

    [Fact]
    public async Task Counterfactuals_FlipTheDecision_WithTheNearestValue()
    {
        await using var server = await LoopbackServer.StartAsync();
        await RegisterAsync(server, TestPredictors.Binary());
        var x = TestPredictors.Sample(60, seed: 17);
        var checkedFlips = 0;
        for (var r = 0; r < 60 && checkedFlips < 6; r++)
        {
            var row = Named(x, r);
            var (_, body) = await PredictAsync(server, "credit", new { features = row, explain = 4, counterfactual = true });
            var p = body.GetProperty("predictions")[0];
            var decision = p.GetProperty("decision").GetString();
            foreach (var flip in p.GetProperty("counterfactuals").EnumerateArray())
            {
                var feature = flip.GetProperty("feature").GetString()!;
                var to = flip.GetProperty("to").GetString()!;
                var changed = new Dictionary<string, object?>(row) { [feature] = feature is "region" or "permit" ? to : double.Parse(to, System.Globalization.CultureInfo.InvariantCulture) };
                var (_, again) = await PredictAsync(server, "credit", new { features = changed, explain = 0 });
                var flipped = again.GetProperty("predictions")[0];
                Assert.NotEqual(decision, flipped.GetProperty("decision").GetString());
                Assert.Equal(flip.GetProperty("decision").GetString(), flipped.GetProperty("decision").GetString());
                Assert.Equal(flip.GetProperty("score").GetDouble(), flipped.GetProperty("score").GetDouble(), 1e-12);
                if (feature == "income")
                {
                    // Nearest: halfway back toward the original value the decision has not flipped yet.
                    var from = (double)row[feature]!;
                    var target = double.Parse(to, System.Globalization.CultureInfo.InvariantCulture);
                    var halfway = new Dictionary<string, object?>(row) { [feature] = from + (target - from) / 2 };
                    var (_, half) = await PredictAsync(server, "credit", new { features = halfway, explain = 0 });
                    Assert.Equal(decision, half.GetProperty("predictions")[0].GetProperty("decision").GetString());
                }

                checkedFlips++;
            }
        }

        Assert.True(checkedFlips > 0, "no row had a counterfactual to check");
    }

    [Fact]
    public async Task ActivePredictor_IsServedAfterARestart_AndListed()
    {
        var directory = LoopbackServer.NewDataDirectory();
        double before;
        await using (var first = await LoopbackServer.StartAsync(dataDirectory: directory))
        {
            await RegisterAsync(first, TestPredictors.Binary());
            var (_, body) = await PredictAsync(first, "credit", new { features = new { income = 44 } });
            before = body.GetProperty("predictions")[0].GetProperty("score").GetDouble();
        }

        await using var second = await LoopbackServer.StartAsync(dataDirectory: directory);
        var (status, again) = await PredictAsync(second, "credit", new { features = new { income = 44 } });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(before, again.GetProperty("predictions")[0].GetProperty("score").GetDouble());
        var listed = await second.Client.GetFromJsonAsync<JsonElement>("/v1/predictors", Token);
        var credit = Assert.Single(listed.EnumerateArray());
        Assert.Equal("credit", credit.GetProperty("name").GetString());
        Assert.Equal(0.3, credit.GetProperty("threshold").GetDouble());
        Assert.Equal("categorical", credit.GetProperty("inputs")[2].GetProperty("type").GetString());
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task AnInconsistentPackage_IsRefusedWith422()
    {
        await using var server = await LoopbackServer.StartAsync();
        var bad = TestPredictors.Binary() with { Features = [.. TestPredictors.Features.Reverse()] };
        using var content = new ByteArrayContent(bad.ToBytes());
        using var response = await server.Client.PostAsync("/v1/models?activate=true", content, Token);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var wrongFallback = TestPredictors.Binary() with { Fallback = new PredictorFallback("scorecard", TestPredictors.Card(3)) };
        using var content2 = new ByteArrayContent(wrongFallback.ToBytes());
        using var response2 = await server.Client.PostAsync("/v1/models", content2, Token);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response2.StatusCode);
    }

    [Fact]
    public async Task Metrics_CountPredictionsByPathAndSource()
    {
        await using var server = await LoopbackServer.StartAsync();
        await RegisterAsync(server, TestPredictors.Binary());
        await PredictAsync(server, "credit", new { rows = new[] { new { features = new { income = 40 } }, new { features = new { income = 70 } } } });
        var text = await server.Client.GetStringAsync("/metrics", Token);
        Assert.Contains("lasthope_predict_requests_total{", text, StringComparison.Ordinal);
        Assert.Matches("lasthope_predict_rows_total\\{[^}]*predictor=\"credit\"[^}]*source=\"model\"[^}]*\\} 2", text);
    }
}
