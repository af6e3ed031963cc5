using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Lasthope.Server.Tests;

[Collection(nameof(ProcessWideMetrics))]
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

        var metrics = await server.Client.GetStringAsync("/metrics", ct);
        Assert.Matches(new System.Text.RegularExpressions.Regex(@"^lasthope_serving_rejected_total\{[^}]*path=""/v1/rank""[^}]*\} 1$", System.Text.RegularExpressions.RegexOptions.Multiline), metrics);
    }
}
