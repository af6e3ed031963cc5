using System.Net;
using System.Text.Json;

namespace Lasthope.Server.Tests;

public sealed class ExperimentReportApiTests
{
    private static Dictionary<string, string?> Settings() => new()
    {
        ["Lasthope:Serving:Experiments:0:Id"] = "ab",
        ["Lasthope:Serving:Experiments:0:Surface"] = "home",
        ["Lasthope:Serving:Experiments:0:Arms:0:Name"] = "control",
        ["Lasthope:Serving:Experiments:0:Arms:0:Policy"] = "heuristic",
        ["Lasthope:Serving:Experiments:0:Arms:1:Name"] = "treatment",
        ["Lasthope:Serving:Experiments:0:Arms:1:Policy"] = "active",
    };

    [Fact]
    public async Task TheReport_CountsWhatWasServedAndClicked_AndNamesAModelArmThatNeverServed()
    {
        await using var server = await LoopbackServer.StartAsync(Settings());
        string[] candidates = [.. Enumerable.Range(0, 20).Select(i => $"c{i}")];
        var clicks = 0;
        for (var u = 0; u < 60; u++)
        {
            var ranked = await server.RankAsync(new { requestId = $"r{u}", surface = "home", user = new { id = $"user-{u}" }, candidates, count = 5 });
            if (u % 3 == 0)
            {
                var item = ranked.GetProperty("items")[0].GetProperty("id").GetString();
                await server.PostEventsAsync(new { eventId = $"e{u}", itemId = item, userId = $"user-{u}", requestId = $"r{u}" });
                clicks++;
            }
        }

        await server.FlushAsync();
        var response = await server.Client.GetAsync(new Uri("/v1/experiments/ab/report", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var arms = report.GetProperty("arms").EnumerateArray().ToDictionary(a => a.GetProperty("arm").GetString()!);
        Assert.Equal(60, arms.Values.Sum(a => a.GetProperty("users").GetInt32()));
        Assert.Equal(60 * 5, arms.Values.Sum(a => a.GetProperty("impressions").GetInt64()));
        Assert.Equal(clicks, arms.Values.Sum(a => a.GetProperty("clicks").GetInt64()));

        // The treatment arm has no active model: every request fell back (no_model), which the readout must say.
        var treatment = arms["treatment"];
        Assert.Equal(1.0, treatment.GetProperty("fallbackShare").GetDouble());
        Assert.Equal("heuristic_fallback", treatment.GetProperty("paths")[0].GetProperty("servedBy").GetString());
        Assert.Equal("no_model", treatment.GetProperty("paths")[0].GetProperty("fallbackReason").GetString());
        Assert.True(report.GetProperty("fallbackSkew").GetProperty("alarm").GetBoolean());
        Assert.Contains("served by the model on 0%", report.GetProperty("verdict").GetString(), StringComparison.Ordinal);
        Assert.True(arms["control"].GetProperty("effectVsControl").ValueKind == JsonValueKind.Null);
    }

    [Theory]
    [InlineData("/v1/experiments/nope/report", HttpStatusCode.NotFound, "route.id")]
    [InlineData("/v1/experiments/ab/report?days=0", HttpStatusCode.BadRequest, "query.days")]
    [InlineData("/v1/experiments/ab/report?days=1000", HttpStatusCode.BadRequest, "query.days")]
    public async Task BadRequests_GetProblemsNamingTheField(string path, HttpStatusCode status, string field)
    {
        await using var server = await LoopbackServer.StartAsync(Settings());
        var response = await server.Client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(field, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
