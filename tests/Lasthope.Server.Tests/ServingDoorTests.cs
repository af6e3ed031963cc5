using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Lasthope.Server.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Lasthope.Server.Tests;

public class ServingDoorTests
{
    [Fact]
    public async Task PastMaxRequestsInFlight_TheDoorRefusesAtOnce_With503AndRetryAfter_AndCountsIt()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:MaxRequestsInFlight"] = "1",
            ["Lasthope:Serving:FaultInjection:ModelLatencyMs"] = "5000",
            ["Lasthope:Serving:FaultInjection:ModelLatencyFraction"] = "1",
            ["Lasthope:Serving:BudgetMs"] = "1500",
        });
        await CascadeTests.RegisterAsync(server, TestModels.SmallModel, "home");
        using var rejected = new MetricCollector<long>(server.Server.Services.GetRequiredService<IMeterFactory>(), LasthopeMetrics.MeterName, "lasthope.serving.rejected");
        var ct = TestContext.Current.CancellationToken;

        var inside = server.Client.PostAsJsonAsync("/v1/rank", new { surface = "home", user = new { id = "u" }, candidates = CascadeTests.Candidates, count = 10 }, ct);
        await Task.Delay(500, ct); // the first request now waits for its (injected) slow model, holding the only place
        using var refused = await server.Client.PostAsJsonAsync("/v1/rank", new { surface = "home", candidates = CascadeTests.Candidates }, ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>(ct);
        Assert.Equal("Overloaded", problem.GetProperty("title").GetString());
        using var first = await inside;
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("timeout", (await first.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("fallbackReason").GetString());

        var counted = Assert.Single(rejected.GetMeasurementSnapshot());
        Assert.Equal(1, counted.Value);
        Assert.True(counted.MatchesTags(new KeyValuePair<string, object?>("path", "/v1/rank")), "the route's template labels the refusal");
    }
}

public class AdaptiveDoorTests
{
    [Fact]
    public async Task TheDoorsLimit_AndTheWaitItFollows_AreMetrics_AndARefusalSaysHowLongItTook()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:MaxRequestsInFlight"] = "1",
            ["Lasthope:Serving:FaultInjection:ModelLatencyMs"] = "3000",
            ["Lasthope:Serving:FaultInjection:ModelLatencyFraction"] = "1",
            ["Lasthope:Serving:BudgetMs"] = "1500",
        });
        await CascadeTests.RegisterAsync(server, TestModels.SmallModel, "home");
        var ct = TestContext.Current.CancellationToken;
        var inside = server.Client.PostAsJsonAsync("/v1/rank", new { surface = "home", user = new { id = "u" }, candidates = CascadeTests.Candidates, count = 10 }, ct);
        await Task.Delay(500, ct);
        using var refused = await server.Client.PostAsJsonAsync("/v1/rank", new { surface = "home", candidates = CascadeTests.Candidates }, ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        var timing = refused.Headers.GetValues("Server-Timing").Single();
        Assert.Matches(@"^refused;dur=\d+(\.\d+)?$", timing);
        using var first = await inside;

        var metrics = await server.Client.GetStringAsync("/metrics", ct);
        Assert.Matches(new System.Text.RegularExpressions.Regex(@"^lasthope_serving_limit(_requests)?(\{[^}]*\})? 1$", System.Text.RegularExpressions.RegexOptions.Multiline), metrics);
        Assert.Contains("lasthope_serving_turn_wait_seconds", metrics, StringComparison.Ordinal);
    }
}
