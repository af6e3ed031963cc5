using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lasthope.Core.Serving;
using Lasthope.Trees;

namespace Lasthope.Server.Tests;

public class CascadeTests
{
    internal static readonly string[] Candidates = [.. Enumerable.Range(0, 400).Select(i => $"item-{i:D3}")];

    internal static async Task<string> RegisterAsync(LoopbackServer server, string model, string surface, bool activate = true, string? version = null)
    {
        var query = $"/v1/models?surface={surface}&activate={activate.ToString().ToLowerInvariant()}" + (version is null ? "" : $"&version={version}");
        using var content = new StringContent(model, Encoding.UTF8, "text/plain");
        using var response = await server.Client.PostAsync(query, content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"register failed: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("version").GetString()!;
    }

    /// <summary>Some history, so that the counters (and so the features) differ between items.</summary>
    internal static async Task WarmCountersAsync(LoopbackServer server, string surface = "warm")
    {
        for (var i = 0; i < 20; i++)
        {
            await server.RankAsync(new { requestId = $"warm-{i}", surface, user = new { id = $"w{i}", age = 30, gender = "f" }, candidates = Candidates.Skip(i * 10).Take(20).ToArray(), count = 10 });
            await server.PostEventsAsync(new { eventId = $"warm-e{i}", itemId = Candidates[(i * 10) + (i % 3)], requestId = $"warm-{i}" });
        }
    }

    private static List<JsonElement> Items(JsonElement response) => [.. response.GetProperty("items").EnumerateArray()];

    [Fact]
    public async Task Rank_IsServedByTheModel_AndTheReRankedBlockSitsAboveTheHeuristicRest()
    {
        await using var server = await LoopbackServer.StartAsync();
        await WarmCountersAsync(server);
        var version = await RegisterAsync(server, TestModels.SmallModel, "rerank-block");
        var response = await server.RankAsync(new { requestId = "r1", surface = "rerank-block", user = new { id = "u1", age = 30, gender = "f" }, candidates = Candidates, count = 400, rerankDepth = 300 });

        Assert.Equal("model", response.GetProperty("servedBy").GetString());
        Assert.Equal(JsonValueKind.Null, response.GetProperty("fallbackReason").ValueKind);
        Assert.Equal(version, response.GetProperty("modelVersion").GetString());
        Assert.Equal(300, response.GetProperty("rerankDepth").GetInt32());
        Assert.Equal(LoopbackServer.UnhurriedBudgetMs, response.GetProperty("budgetMs").GetDouble());
        var timings = response.GetProperty("timings");
        foreach (var stage in new[] { "segment", "heuristic", "features", "queue", "model", "total" })
        {
            Assert.True(timings.TryGetProperty(stage, out _), $"no '{stage}' timing");
        }

        var items = Items(response);
        Assert.Equal(Enumerable.Repeat("model", 300).Concat(Enumerable.Repeat("heuristic", 100)), items.Select(i => i.GetProperty("source").GetString()));
        var modelScores = items.Take(300).Select(i => i.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(modelScores.OrderDescending(), modelScores);

        // The block is the heuristic's top 300: every model-placed item had a heuristic rank within K.
        var explain = await server.Client.GetFromJsonAsync<JsonElement>("/v1/rank/r1/explain");
        foreach (var item in explain.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("source").GetString() == "model"))
        {
            Assert.InRange(item.GetProperty("features").GetProperty("heuristic_rank").GetDouble(), 1, 300);
        }

        var metrics = "";
        for (var attempt = 0; attempt < 50 && !metrics.Contains("lasthope_rerank_depth_bucket", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(100);
            metrics = await server.Client.GetStringAsync("/metrics");
        }

        Assert.Contains("served_by=\"model\"", metrics, StringComparison.Ordinal);
        // A surface of its own: every server in this process reports to every /metrics (see ProcessWideMetrics).
        Assert.Matches(new Regex("^lasthope_rerank_depth_bucket\\{(?=[^}]*surface=\"rerank-block\")(?=[^}]*le=\"300\")[^}]*\\} 1$", RegexOptions.Multiline), metrics);
        Assert.Matches(new Regex("^lasthope_rerank_depth_bucket\\{(?=[^}]*surface=\"rerank-block\")(?=[^}]*le=\"250\")[^}]*\\} 0$", RegexOptions.Multiline), metrics);

        // The rest keeps the heuristic order: non-increasing heuristic score, ties by item id.
        var rest = items.Skip(300).Select(i => (Id: i.GetProperty("id").GetString()!, Score: i.GetProperty("score").GetDouble())).ToList();
        for (var i = 1; i < rest.Count; i++)
        {
            Assert.True(rest[i - 1].Score > rest[i].Score || (rest[i - 1].Score == rest[i].Score && string.CompareOrdinal(rest[i - 1].Id, rest[i].Id) < 0));
        }
    }

    [Fact]
    public async Task LoggedFeatures_AreExactlyTheFeaturesTheModelScored()
    {
        await using var server = await LoopbackServer.StartAsync();
        await WarmCountersAsync(server);
        await RegisterAsync(server, TestModels.SmallModel, "home");
        var response = await server.RankAsync(new { requestId = "r-features", surface = "home", user = new { id = "u1", age = 50, gender = "m" }, candidates = Candidates, count = 20 });
        Assert.Equal("model", response.GetProperty("servedBy").GetString());
        await server.FlushAsync();

        var logged = await server.Store.FindRankingAsync("r-features");
        Assert.NotNull(logged);
        Assert.Equal(ServedBy.Model, logged.ServedBy);
        var features = logged.Features!;
        var model = TreeModel.FromLightGbm(TestModels.SmallModel);
        Assert.Equal(model.FeatureNames, features.Names);
        Assert.Equal(20, features.ItemIds.Count);
        var byId = Items(response).ToDictionary(i => i.GetProperty("id").GetString()!, i => i.GetProperty("score").GetDouble());
        for (var r = 0; r < features.ItemIds.Count; r++)
        {
            var row = features.Values.AsSpan(r * features.Names.Count, features.Names.Count);
            Assert.Equal(byId[features.ItemIds[r]], model.Score(row)); // bit for bit: the logged row is the scored row
        }
    }

    [Fact]
    public async Task Timeout_FallsBackToTheHeuristic_WithReasonTimeout()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:FaultInjection:ModelLatencyMs"] = "2000",
            ["Lasthope:Serving:FaultInjection:ModelLatencyFraction"] = "1",
            // A budget and a queue limit a busy test machine cannot exhaust before the model stage starts: with a
            // 40 ms budget and the default 10 ms queue limit, CPU contention made this request shed as "overload".
            ["Lasthope:Serving:BudgetMs"] = "250",
            ["Lasthope:Serving:ShedModelAboveWaitMs"] = "1000",
        });
        await RegisterAsync(server, TestModels.SmallModel, "home");
        var response = await server.RankAsync(new { surface = "home", user = new { id = "u" }, candidates = Candidates, count = 10 });
        Assert.Equal("heuristic_fallback", response.GetProperty("servedBy").GetString());
        Assert.Equal("timeout", response.GetProperty("fallbackReason").GetString());
        Assert.Equal(0, response.GetProperty("rerankDepth").GetInt32());
        Assert.All(Items(response), i => Assert.Equal("heuristic", i.GetProperty("source").GetString()));
        Assert.Equal(10, Items(response).Count);
        // The abandoned model stage was cancelled at the deadline, not waited for: it took about the budget, not 2 s.
        Assert.InRange(response.GetProperty("timings").GetProperty("model").GetDouble(), 0, 1500);
    }

    [Fact]
    public async Task ModelError_FallsBack_WithReasonModelError()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Serving:FaultInjection:ModelErrorFraction"] = "1" });
        await RegisterAsync(server, TestModels.SmallModel, "home");
        var response = await server.RankAsync(new { surface = "home", user = new { id = "u" }, candidates = Candidates });
        Assert.Equal("heuristic_fallback", response.GetProperty("servedBy").GetString());
        Assert.Equal("model_error", response.GetProperty("fallbackReason").GetString());
    }

    [Fact]
    public async Task FeatureFailure_FallsBack_WithReasonFeaturesUnavailable()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Serving:FaultInjection:FeatureErrorFraction"] = "1" });
        await RegisterAsync(server, TestModels.SmallModel, "home");
        var response = await server.RankAsync(new { surface = "home", user = new { id = "u" }, candidates = Candidates });
        Assert.Equal("heuristic_fallback", response.GetProperty("servedBy").GetString());
        Assert.Equal("features_unavailable", response.GetProperty("fallbackReason").GetString());
    }

    [Fact]
    public async Task RepeatedErrors_OpenTheCircuit_AndLaterRequestsFallBackWithCircuitOpen()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:FaultInjection:ModelErrorFraction"] = "1",
            ["Lasthope:Serving:CircuitBreaker:FailureThreshold"] = "3",
            ["Lasthope:Serving:CircuitBreaker:OpenSeconds"] = "3600",
        });
        await RegisterAsync(server, TestModels.SmallModel, "home");
        var reasons = new List<string?>();
        for (var i = 0; i < 5; i++)
        {
            reasons.Add((await server.RankAsync(new { surface = "home", user = new { id = "u" }, candidates = Candidates })).GetProperty("fallbackReason").GetString());
        }

        Assert.Equal(["model_error", "model_error", "model_error", "circuit_open", "circuit_open"], reasons);
    }

    [Fact]
    public async Task AClientThatGoesAwayDuringTheHalfOpenTrial_DoesNotKeepTheCircuitShut()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:BudgetMs"] = "10000",
            ["Lasthope:Serving:FaultInjection:ModelLatencyMs"] = "1000",
            ["Lasthope:Serving:FaultInjection:ModelLatencyFraction"] = "1",
            ["Lasthope:Serving:FaultInjection:ModelErrorFraction"] = "1",
            ["Lasthope:Serving:CircuitBreaker:FailureThreshold"] = "1",
            ["Lasthope:Serving:CircuitBreaker:OpenSeconds"] = "10",
        });
        await RegisterAsync(server, TestModels.SmallModel, "home");
        object Request() => new { surface = "home", user = new { id = "u" }, candidates = Candidates };
        Assert.Equal("model_error", (await server.RankAsync(Request())).GetProperty("fallbackReason").GetString());
        Assert.Equal("circuit_open", (await server.RankAsync(Request())).GetProperty("fallbackReason").GetString());

        server.Clock.Advance(TimeSpan.FromSeconds(11)); // half-open: the next request is the one trial
        using (var goneAway = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken))
        {
            goneAway.CancelAfter(TimeSpan.FromMilliseconds(200)); // inside the trial's injected latency
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.Client.PostAsJsonAsync("/v1/rank", Request(), goneAway.Token));
        }

        // The server notices the closed connection a moment later; from then on a new trial must be let through. A
        // trial left taken would keep the circuit shut for good: every answer below would be circuit_open.
        string? reason = "circuit_open";
        for (var attempt = 0; attempt < 30 && reason == "circuit_open"; attempt++)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            reason = (await server.RankAsync(Request())).GetProperty("fallbackReason").GetString();
        }

        Assert.Equal("model_error", reason);
    }

    [Fact]
    public async Task NoModel_FallsBack_WhenTheArmNamesAModelThatIsNotRegistered()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:Experiments:0:Id"] = "exp",
            ["Lasthope:Serving:Experiments:0:Surface"] = "home",
            ["Lasthope:Serving:Experiments:0:Arms:0:Name"] = "treatment",
            ["Lasthope:Serving:Experiments:0:Arms:0:Policy"] = "missing-version",
        });
        var response = await server.RankAsync(new { surface = "home", user = new { id = "u" }, candidates = Candidates });
        Assert.Equal("heuristic_fallback", response.GetProperty("servedBy").GetString());
        Assert.Equal("no_model", response.GetProperty("fallbackReason").GetString());
        Assert.Equal("missing-version", response.GetProperty("modelVersion").GetString());
        Assert.Equal("treatment", response.GetProperty("experiment").GetProperty("arm").GetString());
    }

    [Fact]
    public async Task NoModelConfigured_ServesTheHeuristic_AsIntended()
    {
        await using var server = await LoopbackServer.StartAsync();
        var response = await server.RankAsync(new { surface = "home", user = new { id = "u" }, candidates = Candidates });
        Assert.Equal("heuristic", response.GetProperty("servedBy").GetString());
        Assert.Equal(JsonValueKind.Null, response.GetProperty("fallbackReason").ValueKind);
    }

    [Fact]
    public async Task Overload_FallsBack_WhenRequestsWouldQueuePastTheirBudget()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:MaxConcurrentRequests"] = "1",
            ["Lasthope:Serving:BudgetMs"] = "60",
            ["Lasthope:Serving:FaultInjection:ModelBlockLatencyMs"] = "8",
            ["Lasthope:Serving:FaultInjection:ModelBlockLatencyFraction"] = "1",
        });
        await RegisterAsync(server, TestModels.SmallModel, "home");
        var responses = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => server.RankAsync(new { requestId = $"o{i}", surface = "home", user = new { id = $"u{i}" }, candidates = Candidates, count = 5 })));
        var reasons = responses.Select(r => r.GetProperty("fallbackReason").GetString()).ToList();
        Assert.Contains("overload", reasons);
        Assert.All(responses, r => Assert.Equal(5, Items(r).Count)); // never blank
        Assert.All(responses.Where(r => r.GetProperty("servedBy").GetString() == "heuristic_fallback"), r => Assert.NotNull(r.GetProperty("fallbackReason").GetString()));
    }

    [Fact]
    public async Task SlowModel_ServesAPartialReRank_OfTheScoredPrefix()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            // A 300-deep re-rank is 5 blocks of 64 with 200 ms after each of the first 4, so it cannot finish within
            // 400 ms, while the first block surely does; the queue limit is raised so that CPU contention on a test
            // machine does not shed the request before it starts.
            ["Lasthope:Serving:BudgetMs"] = "400",
            ["Lasthope:Serving:ShedModelAboveWaitMs"] = "1000",
            ["Lasthope:Serving:FaultInjection:ModelBlockLatencyMs"] = "200",
            ["Lasthope:Serving:FaultInjection:ModelBlockLatencyFraction"] = "1",
        });
        await WarmCountersAsync(server);
        await RegisterAsync(server, TestModels.SmallModel, "home");
        var response = await server.RankAsync(new { requestId = "partial", surface = "home", user = new { id = "u" }, candidates = Candidates, count = 400, rerankDepth = 300 });
        Assert.Equal("model_partial", response.GetProperty("servedBy").GetString());
        var depth = response.GetProperty("rerankDepth").GetInt32();
        Assert.True(depth is > 0 and < 300 && depth % TreeModel.ScoringBlockSize == 0, $"depth {depth}");
        var sources = Items(response).Select(i => i.GetProperty("source").GetString()).ToList();
        Assert.Equal(Enumerable.Repeat("model", depth).Concat(Enumerable.Repeat("heuristic", 400 - depth)), sources);
        var block = Items(response).Take(depth).Select(i => i.GetProperty("score").GetDouble()).ToList();
        Assert.Equal(block.OrderDescending(), block);

        var explain = await server.Client.GetFromJsonAsync<JsonElement>("/v1/rank/partial/explain");
        foreach (var item in explain.GetProperty("items").EnumerateArray().Where(i => i.GetProperty("source").GetString() == "model"))
        {
            Assert.InRange(item.GetProperty("features").GetProperty("heuristic_rank").GetDouble(), 1, depth); // the prefix, not any K items
        }
    }

    [Fact]
    public async Task ModelSwap_UnderConcurrentRequests_EveryResponseIsScoredEntirelyByOneModel()
    {
        // A generous budget: this test is about the swap, not about deadlines on a busy test machine.
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Serving:BudgetMs"] = "5000", ["Lasthope:Serving:ShedModelAboveWaitMs"] = "5000" });
        await WarmCountersAsync(server);
        var v1 = await RegisterAsync(server, TestModels.SmallModel, "home", version: "v1");
        var v2 = await RegisterAsync(server, TestModels.OtherModel, "home", activate: false, version: "v2");
        var models = new Dictionary<string, TreeModel> { [v1] = TreeModel.FromLightGbm(TestModels.SmallModel), [v2] = TreeModel.FromLightGbm(TestModels.OtherModel) };
        using var stop = new CancellationTokenSource();
        var swapper = Task.Run(async () =>
        {
            var swaps = 0;
            while (!stop.IsCancellationRequested)
            {
                using var r = await server.Client.PostAsync($"/v1/models/{(swaps++ % 2 == 0 ? v2 : v1)}/activate", null);
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            }

            return swaps;
        });

        var responses = new List<JsonElement>();
        for (var wave = 0; wave < 15; wave++)
        {
            responses.AddRange(await Task.WhenAll(Enumerable.Range(wave * 4, 4).Select(i => server.RankAsync(new { requestId = $"s{i}", surface = "home", user = new { id = $"u{i}" }, candidates = Candidates, count = 10 }))));
        }

        await stop.CancelAsync();
        Assert.True(await swapper >= 2);
        await server.FlushAsync();

        var seen = new HashSet<string>();
        foreach (var response in responses)
        {
            Assert.True(response.GetProperty("servedBy").GetString() == "model", $"not served by the model: {response}");
            var version = response.GetProperty("modelVersion").GetString()!;
            seen.Add(version);
            var logged = (await server.Store.FindRankingAsync(response.GetProperty("requestId").GetString()!))!;
            Assert.Equal(version, logged.ModelVersion);
            var scores = Items(response).ToDictionary(i => i.GetProperty("id").GetString()!, i => i.GetProperty("score").GetDouble());
            var f = logged.Features!;
            for (var r = 0; r < f.ItemIds.Count; r++)
            {
                Assert.Equal(scores[f.ItemIds[r]], models[version].Score(f.Values.AsSpan(r * f.Names.Count, f.Names.Count)));
            }
        }

        Assert.Subset(new HashSet<string> { v1, v2 }, seen);
    }

    [Fact]
    public async Task ModelRegistration_RefusesAModelWhoseFeaturesAreNotTheSurfacesFeatureSet()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var content = new StringContent(TestModels.WithUnknownFeature(), Encoding.UTF8, "text/plain");
        using var response = await server.Client.PostAsync("/v1/models?surface=home", content);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var message = problem.GetProperty("errors").GetProperty("model")[0].GetString()!;
        Assert.Contains("colour_of_the_sky", message, StringComparison.Ordinal);
        Assert.Contains("RequestFeatures", message, StringComparison.Ordinal);

        using var corrupt = new StringContent("tree\nversion=v4\nnum_class=1\n", Encoding.UTF8, "text/plain");
        using var refused = await server.Client.PostAsync("/v1/models?surface=home", corrupt);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
    }

    [Fact]
    public async Task ModelRegistration_AcceptsRequestFeatures_ConfiguredForTheSurface()
    {
        var model = TestModels.Train(5, 4, 4, [.. BuiltInFeaturesPlus("price")]);
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Serving:Surfaces:shop:RequestFeatures:0"] = "price" });
        await RegisterAsync(server, model, "shop");
        var response = await server.RankAsync(new { requestId = "p1", surface = "shop", user = new { id = "u" }, candidates = new object[] { new { id = "a", features = new { price = 3.5 } }, "b" }, count = 2 });
        Assert.Equal("model", response.GetProperty("servedBy").GetString());
        await server.FlushAsync();
        var logged = (await server.Store.FindRankingAsync("p1"))!.Features!;
        var price = logged.Names.ToList().IndexOf("price");
        var rowA = logged.ItemIds.ToList().IndexOf("a");
        var rowB = logged.ItemIds.ToList().IndexOf("b");
        Assert.Equal(3.5, logged.Values[(rowA * logged.Names.Count) + price]);
        Assert.True(double.IsNaN(logged.Values[(rowB * logged.Names.Count) + price])); // not supplied: missing
    }

    private static IEnumerable<string> BuiltInFeaturesPlus(string extra) => Lasthope.Server.Cascade.BuiltInFeatures.Names.Append(extra);

    [Fact]
    public async Task Explain_AttributionsPlusBias_AddUpToTheModelScore()
    {
        await using var server = await LoopbackServer.StartAsync();
        await WarmCountersAsync(server);
        await RegisterAsync(server, TestModels.SmallModel, "home");
        await server.RankAsync(new { requestId = "x1", surface = "home", user = new { id = "u" }, candidates = Candidates, count = 5 });
        foreach (var method in new[] { "path", "shap" })
        {
            var explain = await server.Client.GetFromJsonAsync<JsonElement>($"/v1/rank/x1/explain?method={method}");
            Assert.Equal("model", explain.GetProperty("servedBy").GetString());
            foreach (var item in explain.GetProperty("items").EnumerateArray())
            {
                var total = item.GetProperty("attributions").EnumerateObject().Sum(a => a.Value.GetDouble()) + item.GetProperty("bias").GetDouble();
                Assert.Equal(item.GetProperty("score").GetDouble(), total, 9);
            }
        }

        using var missing = await server.Client.GetAsync("/v1/rank/nope/explain");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Explain_OfAHeuristicRanking_ShowsTheHeuristicsOwnTerms()
    {
        await using var server = await LoopbackServer.StartAsync();
        await WarmCountersAsync(server);
        await server.RankAsync(new { requestId = "h1", surface = "home", user = new { id = "u", age = 30, gender = "f" }, candidates = Candidates, count = 3 });
        var explain = await server.Client.GetFromJsonAsync<JsonElement>("/v1/rank/h1/explain");
        foreach (var item in explain.GetProperty("items").EnumerateArray())
        {
            var total = item.GetProperty("attributions").EnumerateObject().Sum(a => a.Value.GetDouble());
            Assert.Equal(item.GetProperty("score").GetDouble(), total, 12);
        }
    }
}
