using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Lasthope.Server.Tests;

/// <summary>Traces, metrics and log event ids are a contract too.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task ARankRequest_IsASpan_WithASpanPerStage_AndTheServedPathAsAttributes()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == LasthopeActivity.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        await using var server = await LoopbackServer.StartAsync();
        await CascadeTests.RegisterAsync(server, TestModels.SmallModel, "home");
        var requestId = $"traced-{Guid.NewGuid():N}";
        await server.RankAsync(new { requestId, surface = "home", user = new { id = "u", age = 30, gender = "f" }, candidates = CascadeTests.Candidates, count = 5 });

        var root = Assert.Single(spans, a => a.OperationName == "rank" && (string?)a.GetTagItem(LasthopeActivity.Tags.RequestId) == requestId);
        Assert.Equal("model", root.GetTagItem(LasthopeActivity.Tags.ServedBy));
        Assert.Equal("home", root.GetTagItem(LasthopeActivity.Tags.Surface));
        Assert.Equal("f:25-34", root.GetTagItem(LasthopeActivity.Tags.Segment));
        Assert.Equal(300, root.GetTagItem(LasthopeActivity.Tags.RerankDepth));
        var children = spans.Where(a => a.TraceId == root.TraceId && a != root).Select(a => a.OperationName).ToHashSet();
        Assert.Superset(new HashSet<string> { "rank.segment", "rank.heuristic", "rank.model", "rank.features", "rank.score", "rank.served_list" }, children);
    }

    [Fact]
    public async Task ServedRequests_AreCountedByPath_OnTheServersOwnMeter()
    {
        await using var server = await LoopbackServer.StartAsync();
        var meters = server.Server.Services.GetRequiredService<IMeterFactory>();
        using var requests = new MetricCollector<long>(meters, LasthopeMetrics.MeterName, "lasthope.rank.requests");
        using var latency = new MetricCollector<double>(meters, LasthopeMetrics.MeterName, "lasthope.rank.duration");
        using var impressions = new MetricCollector<long>(meters, LasthopeMetrics.MeterName, "lasthope.impressions");
        for (var i = 0; i < 3; i++)
        {
            await server.RankAsync(new { surface = "home", user = new { id = $"u{i}" }, candidates = new[] { "a", "b", "c" }, count = 2 });
        }

        var counted = requests.GetMeasurementSnapshot();
        Assert.Equal(3, counted.Count);
        Assert.All(counted, m => Assert.True(m.MatchesTags(
            new KeyValuePair<string, object?>("surface", "home"),
            new KeyValuePair<string, object?>("arm", "none"),
            new KeyValuePair<string, object?>("served_by", "heuristic"),
            new KeyValuePair<string, object?>("fallback_reason", "none"))));
        Assert.Equal(3, latency.GetMeasurementSnapshot().Count);
        Assert.All(latency.GetMeasurementSnapshot(), m => Assert.InRange(m.Value, 0, 60));
        Assert.Equal(6, impressions.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public void LogEventIds_AreUnique_AndFiledByArea()
    {
        var ids = typeof(LogEvents).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (f.Name, Id: (int)f.GetRawConstantValue()!)).ToList();
        Assert.True(ids.Count >= 20);
        Assert.Equal(ids.Count, ids.Select(i => i.Id).Distinct().Count());
        Assert.All(ids, i => Assert.InRange(i.Id, 1000, 5999));
    }
}
