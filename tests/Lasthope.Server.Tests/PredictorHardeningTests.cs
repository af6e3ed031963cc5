using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Lasthope.Core.Serving;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Predict;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Lasthope.Server.Tests;

/// <summary>
/// What a client or an administrator can send to the predict path and its registration, as an attacker would: a
/// package that cannot serve is a 422, never a 500; extreme numbers give finite answers; a request cannot buy more
/// time than its predictor's budget; the fallback scores on its own link whatever the model's objective; and the
/// circuit breaker is judged only by the model's errors.
/// </summary>
public sealed partial class PredictorHardeningTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Each edit of a valid package's JSON, by name, that makes a package Lasthope must refuse.</summary>
    public static TheoryData<string> BrokenPackages => new()
    {
        "duplicate class", "too many classes", "null feature", "null category", "duplicate category", "bad name",
        "null reason phrase", "null classes", "null model", "huge weight", "zero scale", "unknown category term",
        "repeated term", "share above one", "infinite leaf", "zero sigmoid", "overflowing leaves", "null fallback",
    };

    [Theory]
    [MemberData(nameof(BrokenPackages))]
    public async Task APackageThatCannotServe_IsA422_NeverA500(string edit)
    {
        await using var server = await LoopbackServer.StartAsync();
        var json = Break(edit, JsonNode.Parse(TestPredictors.Binary().ToBytes())!.AsObject());
        using var content = new StringContent(json.ToJsonString());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await server.Client.PostAsync("/v1/models?activate=true", content, Token);
        var body = await response.Content.ReadAsStringAsync(Token);

        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{edit}: {(int)response.StatusCode} {body}");
        var (status, _) = await PredictApiTests.PredictAsync(server, "credit", new { features = new { income = 40 } });
        Assert.Equal(HttpStatusCode.NotFound, status); // nothing was activated
    }

    [Fact]
    public async Task ARequestBudget_ShortensThePredictorsBudget_ButCannotExtendIt()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:FaultInjection:ModelLatencyMs"] = "3000",
            ["Lasthope:Serving:FaultInjection:ModelLatencyFraction"] = "1",
        });
        await PredictApiTests.RegisterAsync(server, TestPredictors.Binary(budgetMs: 200));

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (status, body) = await PredictApiTests.PredictAsync(server, "credit", new { features = new { income = 40 }, budgetMs = 60_000 });
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(2900), "the request's 60 s did not replace the predictor's 200 ms");
        Assert.Equal(200, body.GetProperty("budgetMs").GetDouble());
        Assert.Equal("timeout", body.GetProperty("fallbackReason").GetString());

        var (_, shorter) = await PredictApiTests.PredictAsync(server, "credit", new { features = new { income = 40 }, budgetMs = 20 });
        Assert.Equal(20, shorter.GetProperty("budgetMs").GetDouble());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExtremeNumbers_AreAnsweredWithFiniteScoresAndReasons(bool modelFails)
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Serving:FaultInjection:ModelErrorFraction"] = modelFails ? "1" : "0" });
        await PredictApiTests.RegisterAsync(server, TestPredictors.Binary(budgetMs: 10_000)); // the model answers however loaded the machine
        var rows = new[] { double.MaxValue, -double.MaxValue, double.Epsilon, 0 }
            .Select(v => new { features = new Dictionary<string, object?> { ["income"] = v, ["residence_permit_months"] = -v, ["region"] = "west" } })
            .ToArray();

        var (status, body) = await PredictApiTests.PredictAsync(server, "credit", new { rows, explain = 20, counterfactual = true });

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        foreach (var p in body.GetProperty("predictions").EnumerateArray())
        {
            Assert.Equal(modelFails ? "fallback" : "model", p.GetProperty("source").GetString());
            var score = p.GetProperty("score").GetDouble();
            Assert.InRange(score, 0, 1);
            var sum = p.GetProperty("baseValue").GetDouble() + p.GetProperty("reasons").EnumerateArray().Sum(r => r.GetProperty("contribution").GetDouble());
            Assert.True(double.IsFinite(sum));
            Assert.Equal(p.GetProperty("rawScore").GetDouble(), sum, Math.Max(1e-9, 1e-12 * Math.Abs(sum)));
        }
    }

    [Fact]
    public async Task TheFallback_ScoresOnItsOwnLogisticLink_WhateverTheModelsSigmoid()
    {
        // A model trained with sigmoid:2 is P = 1 / (1 + exp(-2 raw)); its scorecard is a plain logistic regression.
        var package = TestPredictors.Binary(budgetMs: 10_000) with { Model = SigmoidLine().Replace(TestPredictors.Binary().Model, "objective=binary sigmoid:2") };
        await using var server = await LoopbackServer.StartAsync();
        await PredictApiTests.RegisterAsync(server, package);
        var features = new Dictionary<string, object?> { ["income"] = 30.0, ["residence_permit_months"] = 6.0, ["region"] = "west", ["permit"] = "none" };

        var (_, model) = await PredictApiTests.PredictAsync(server, "credit", new { features });
        var m = model.GetProperty("predictions")[0];
        Assert.Equal("model", m.GetProperty("source").GetString());
        Assert.Equal(1 / (1 + Math.Exp(-2 * m.GetProperty("rawScore").GetDouble())), m.GetProperty("score").GetDouble(), 1e-12);
        Assert.Equal(m.GetProperty("score").GetDouble() >= 0.3 ? "refuse" : "approve", m.GetProperty("decision").GetString());

        await using var failing = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Serving:FaultInjection:ModelErrorFraction"] = "1" });
        await PredictApiTests.RegisterAsync(failing, package);
        var (_, failed) = await PredictApiTests.PredictAsync(failing, "credit", new { features });
        var f = failed.GetProperty("predictions")[0];
        Assert.Equal("fallback", f.GetProperty("source").GetString());
        var raw = -0.5 + -0.8 * ((30.0 - 50) / 20) + -0.4 * ((6.0 - 24) / 12) - 0.2 + 0.9;
        Assert.Equal(raw, f.GetProperty("rawScore").GetDouble(), 1e-12);
        Assert.Equal(1 / (1 + Math.Exp(-raw)), f.GetProperty("score").GetDouble(), 1e-12);
        Assert.Equal(1 / (1 + Math.Exp(-raw)) >= 0.3 ? "refuse" : "approve", f.GetProperty("decision").GetString());
    }

    [Fact]
    public async Task AClientThatGoesAwayDuringTheHalfOpenTrial_DoesNotKeepTheCircuitShut()
    {
        var clock = new FakeTimeProvider(LoopbackServer.DefaultNow);
        var serving = new ServingOptions { CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 1, OpenSeconds = 10 } };
        var faults = new FaultInjector(new FaultInjectionOptions { ModelLatencyMs = 200, ModelLatencyFraction = 1, ModelErrorFraction = 1 });
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var service = new PredictionService(serving, new ScoringGate(2), faults, new LasthopeMetrics(services.GetRequiredService<IMeterFactory>()), clock, NullLogger<PredictionService>.Instance);
        var predictor = Predictor.Load(TestPredictors.Binary(budgetMs: 5_000), "v1");
        PredictCommand Command(string id) => new(id, [40, double.NaN, double.NaN, double.NaN], 1, 0, false, null);

        var first = await service.PredictAsync(predictor, Command("a"), 0, Token);
        Assert.Equal(FallbackReason.ModelError, first.Reason); // one failure opens the circuit
        Assert.Equal(FallbackReason.CircuitOpen, (await service.PredictAsync(predictor, Command("b"), 0, Token)).Reason);

        clock.Advance(TimeSpan.FromSeconds(11)); // half-open: one trial may go through
        using (var goneAway = CancellationTokenSource.CreateLinkedTokenSource(Token))
        {
            goneAway.CancelAfter(TimeSpan.FromMilliseconds(20));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => service.PredictAsync(predictor, Command("c"), 0, goneAway.Token));
        }

        // The abandoned trial released its turn: the next request is the trial (and fails on the injected error).
        Assert.Equal(FallbackReason.ModelError, (await service.PredictAsync(predictor, Command("d"), 0, Token)).Reason);
    }

    [Fact]
    public async Task Timeouts_AreNoVerdict_TheHalfOpenCircuitStaysUntilTheModelAnswers()
    {
        var clock = new FakeTimeProvider(LoopbackServer.DefaultNow);
        var serving = new ServingOptions { CircuitBreaker = new CircuitBreakerOptions { FailureThreshold = 1, OpenSeconds = 10 } };
        var faults = new FaultInjector(new FaultInjectionOptions { ModelLatencyMs = 2_000, ModelLatencyFraction = 1, ModelErrorFraction = 1 });
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var service = new PredictionService(serving, new ScoringGate(2), faults, new LasthopeMetrics(services.GetRequiredService<IMeterFactory>()), clock, NullLogger<PredictionService>.Instance);
        var slow = Predictor.Load(TestPredictors.Binary(budgetMs: 5_000), "v1");
        PredictCommand Command(string id, double? budgetMs) => new(id, [40, double.NaN, double.NaN, double.NaN], 1, 0, false, budgetMs);

        Assert.Equal(FallbackReason.ModelError, (await service.PredictAsync(slow, Command("a", null), 0, Token)).Reason);
        clock.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(FallbackReason.Timeout, (await service.PredictAsync(slow, Command("b", 30), 0, Token)).Reason);

        // Had the timeout counted as a success, the circuit would be closed and let every request through; it is
        // still half-open, so the next request is the one trial, and a third, while it runs, is turned away.
        var trial = service.PredictAsync(slow, Command("c", 100), 0, Token);
        Assert.Equal(FallbackReason.CircuitOpen, (await service.PredictAsync(slow, Command("d", 100), 0, Token)).Reason);
        Assert.Equal(FallbackReason.Timeout, (await trial).Reason);

        // A second version of the same name has its own circuit.
        var other = Predictor.Load(TestPredictors.Binary(budgetMs: 5_000), "v2");
        Assert.NotEqual(FallbackReason.CircuitOpen, (await service.PredictAsync(other, Command("e", 30), 0, Token)).Reason);
    }

    [Fact]
    public async Task VersionsAskedForByName_AreNotAllKeptInMemory()
    {
        await using var server = await LoopbackServer.StartAsync();
        await PredictApiTests.RegisterAsync(server, TestPredictors.Binary());
        var versions = new List<string>();
        for (var i = 0; i < PredictorRegistry.MaxInactiveLoaded + 4; i++)
        {
            versions.Add((await PredictApiTests.RegisterAsync(server, TestPredictors.Binary(budgetMs: 100 + i), activate: false)).GetProperty("version").GetString()!);
        }

        var registry = server.Server.Services.GetRequiredService<PredictorRegistry>();
        foreach (var version in versions.Concat(versions))
        {
            var (status, body) = await PredictApiTests.PredictAsync(server, "credit", new { features = new { income = 40 }, version });
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(version, body.GetProperty("modelVersion").GetString());
            Assert.InRange(registry.LoadedCount, 1, 1 + PredictorRegistry.MaxInactiveLoaded);
        }
    }

    [Fact]
    public void TheCounterfactualSearch_StopsAtTheDeadline()
    {
        var predictor = Predictor.Load(TestPredictors.Binary(), "v1");
        var x = TestPredictors.Sample(200, seed: 17);
        var rows = Enumerable.Range(0, 200).Select(r => x.AsSpan(r * 4, 4).ToArray()).ToArray();
        var withTime = rows.Sum(row => predictor.Predict(row, PredictionSource.Model, 4, counterfactual: true).Counterfactuals!.Count);
        var pastDeadline = rows.Sum(row => predictor.Predict(row, PredictionSource.Model, 4, counterfactual: true, deadline: 0).Counterfactuals!.Count);

        Assert.True(withTime > 0, "no row had a counterfactual");
        Assert.Equal(0, pastDeadline);
    }

    private static JsonObject Break(string edit, JsonObject p)
    {
        var card = p["fallback"]!["scorecard"]!.AsObject();
        switch (edit)
        {
            case "duplicate class": p["task"] = "multiclass"; p["classes"] = new JsonArray("a", "b", "a"); break;
            case "too many classes": p["task"] = "multiclass"; p["classes"] = new JsonArray([.. Enumerable.Range(0, 5_000).Select(i => (JsonNode)$"c{i}")]); break;
            case "null feature": p["features"]!.AsArray().Add(null); break;
            case "null category": p["features"]![2]!["categories"]!.AsArray().Add(null); break;
            case "duplicate category": p["features"]![2]!["categories"]!.AsArray().Add("north"); break;
            case "bad name": p["name"] = "cre\ndit"; break;
            case "null reason phrase": p["reasons"]!["income"] = new JsonObject { ["raises"] = null, ["lowers"] = "x" }; break;
            case "null classes": p["classes"] = null; break;
            case "null model": p["model"] = null; break;
            case "huge weight": card["terms"]![0]!["weights"] = new JsonArray(1e300); break;
            case "zero scale": card["terms"]![0]!["scale"] = 0; break;
            case "unknown category term": card["terms"]![2]!["category"] = "atlantis"; break;
            case "repeated term": card["terms"]!.AsArray().Add(card["terms"]![0]!.DeepClone()); break;
            case "share above one": card["terms"]![2]!["share"] = 1.5; break;
            case "infinite leaf": p["model"] = LeafLine().Replace(p["model"]!.GetValue<string>(), m => "leaf_value=inf " + m.Groups[1].Value, 1); break;
            case "zero sigmoid": p["model"] = SigmoidLine().Replace(p["model"]!.GetValue<string>(), "objective=binary sigmoid:0"); break;
            case "overflowing leaves":
                p["model"] = LeafLine().Replace(p["model"]!.GetValue<string>(), m => "leaf_value=" + string.Join(' ', m.Groups[1].Value.Split(' ').Select(_ => "1e308")));
                break;
            case "null fallback": p["fallback"] = null; break;
            default: throw new ArgumentOutOfRangeException(nameof(edit), edit, null);
        }

        return p;
    }

    [GeneratedRegex("leaf_value=(.*)")]
    private static partial Regex LeafLine();

    [GeneratedRegex("objective=binary sigmoid:1")]
    private static partial Regex SigmoidLine();
}
