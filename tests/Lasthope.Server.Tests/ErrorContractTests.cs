using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Lasthope.Server.Tests;

/// <summary>
/// Every 4xx and 5xx is problem details; body fields are named by their JSON path, query and route parameters as
/// query.NAME and route.NAME; a store failure is 503 with Retry-After wherever it happens.
/// </summary>
public sealed class ErrorContractTests : IAsyncLifetime
{
    private LoopbackServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await LoopbackServer.StartAsync();

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected, string? field = null)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement.Clone();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        if (field is not null)
        {
            Assert.True(problem.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _), $"errors do not name '{field}': {body}");
        }

        return problem;
    }

    [Fact]
    public async Task UnknownRoutes_AndWrongMethods_AreProblems()
    {
        using var missing = await _server.Client.GetAsync("/v1/nowhere", Ct);
        await ProblemAsync(missing, HttpStatusCode.NotFound);
        using var method = await _server.Client.GetAsync("/v1/rank", Ct);
        await ProblemAsync(method, HttpStatusCode.MethodNotAllowed);
        using var put = await _server.Client.PutAsync("/v1/events", new StringContent("{}", Encoding.UTF8, "application/json"), Ct);
        await ProblemAsync(put, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task QueryAndRouteParameters_AreNamedAsSuch()
    {
        using var count = await _server.Client.GetAsync("/v1/similar/a?count=ten", Ct);
        await ProblemAsync(count, HttpStatusCode.BadRequest, "query.count");
        using var negative = await _server.Client.GetAsync("/v1/similar/a?count=-5", Ct);
        await ProblemAsync(negative, HttpStatusCode.BadRequest, "query.count");
        using var surface = await _server.Client.GetAsync("/v1/similar/a?surface=invented", Ct);
        await ProblemAsync(surface, HttpStatusCode.BadRequest, "query.surface");
        using var method = await _server.Client.GetAsync("/v1/rank/r1/explain?method=magic", Ct);
        await ProblemAsync(method, HttpStatusCode.BadRequest, "query.method");
        using var control = await _server.Client.GetAsync("/v1/rank/a%01b/explain", Ct);
        await ProblemAsync(control, HttpStatusCode.BadRequest, "route.requestId");
        using var unknown = await _server.Client.GetAsync("/v1/rank/never-served/explain", Ct);
        await ProblemAsync(unknown, HttpStatusCode.NotFound, "route.requestId");
        using var item = await _server.Client.GetAsync($"/v1/items/{new string('x', 300)}/stats", Ct);
        await ProblemAsync(item, HttpStatusCode.BadRequest, "route.id");
        using var activate = await _server.Client.PostAsync("/v1/models/no-such-version/activate", null, Ct);
        await ProblemAsync(activate, HttpStatusCode.NotFound, "route.version");
        using var flag = await _server.Client.PostAsync("/v1/models?surface=home&activate=maybe", new StringContent("x"), Ct);
        await ProblemAsync(flag, HttpStatusCode.BadRequest, "query.activate");
        using var noSurface = await _server.Client.PostAsync("/v1/models", new StringContent("x"), Ct);
        await ProblemAsync(noSurface, HttpStatusCode.BadRequest, "query.surface");
        using var deactivate = await _server.Client.PostAsync("/v1/surfaces/invented/deactivate", null, Ct);
        await ProblemAsync(deactivate, HttpStatusCode.BadRequest, "route.surface");
    }

    [Fact]
    public async Task Ids_AreBoundedAndFreeOfControlCharacters_AtTheDoor()
    {
        async Task RankAsync(object body, string field)
        {
            using var response = await _server.Client.PostAsJsonAsync("/v1/rank", body, Ct);
            await ProblemAsync(response, HttpStatusCode.BadRequest, field);
        }

        await RankAsync(new { user = new { id = "u\u0000" }, candidates = new[] { "a" } }, "user.id");
        await RankAsync(new { user = new { id = "u" }, candidates = new[] { "a", "b\u001fc" } }, "candidates[1]");
        await RankAsync(new { user = new { id = "u" }, candidates = new[] { new string('a', 100_000) } }, "candidates[0]");
        await RankAsync(new { requestId = "r\n1", user = new { id = "u" }, candidates = new[] { "a" } }, "requestId");
        await RankAsync(new { user = new { id = "u" }, candidates = new[] { "a" }, exclude = new[] { "\u2028" } }, "exclude[0]");
        await RankAsync(new { user = new { id = "u", segment = "s\u0007" }, candidates = new[] { "a" } }, "user.segment");
        await RankAsync(new { surface = "invented", user = new { id = "u" }, candidates = new[] { "a" } }, "surface");
        using var events = await _server.Client.PostAsJsonAsync("/v1/events", new { events = new[] { new { eventId = "e\u0001", itemId = "a" } } }, Ct);
        await ProblemAsync(events, HttpStatusCode.BadRequest, "events[0].eventId");
        using var recommend = await _server.Client.PostAsJsonAsync("/v1/recommend", new { user = new { id = "u" }, interactions = new[] { new { itemId = "i\t" } } }, Ct);
        await ProblemAsync(recommend, HttpStatusCode.BadRequest, "interactions[0].itemId");
    }

    [Fact]
    public async Task AStoreFailure_Is503WithRetryAfter_OnEveryEndpointThatNeedsTheStore()
    {
        await using var server = await LoopbackServer.StartAsync(store: new UnreachableStore());
        var requests = new Func<Task<HttpResponseMessage>>[]
        {
            () => server.Client.GetAsync("/v1/status", Ct),
            () => server.Client.GetAsync("/v1/models", Ct),
            () => server.Client.PostAsync("/v1/models/v1/activate", null, Ct),
            () => server.Client.PostAsync("/v1/surfaces/home/deactivate", null, Ct),
            () => server.Client.PostAsync("/v1/models?surface=home", new StringContent(TestModels.SmallModel), Ct),
            () => server.Client.PostAsJsonAsync("/v1/events", new { events = new[] { new { eventId = "e", itemId = "a" } } }, Ct),
            () => server.Client.GetAsync("/v1/rank/not-in-memory/explain", Ct),
        };
        foreach (var send in requests)
        {
            using var response = await send();
            var problem = await ProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
            Assert.Contains("simulated", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Rankings are still served: the store is not on the request path.
        var ranked = await server.RankAsync(new { surface = "home", user = new { id = "u" }, candidates = new[] { "a" } });
        Assert.Equal(1, ranked.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task UnknownSurfaces_CanBeServedAsDefault_WhenConfigured_AndNeverBecomeLabels()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Serving:UnknownSurface"] = "default" });
        for (var i = 0; i < 50; i++)
        {
            var ranked = await server.RankAsync(new { surface = $"invented-{i}\u0007", user = new { id = "u" }, candidates = new[] { "a" } });
            Assert.Equal(1, ranked.GetProperty("items").GetArrayLength());
        }

        var metrics = "";
        for (var attempt = 0; attempt < 50 && !metrics.Contains("surface=\"default\"", StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(100, Ct);
            metrics = await server.Client.GetStringAsync("/metrics", Ct);
        }

        Assert.DoesNotContain("invented", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("\u0007", metrics, StringComparison.Ordinal);
        Assert.Matches(new Regex("^lasthope_rank_requests_total\\{[^}]*surface=\"default\"[^}]*\\} \\d+$", RegexOptions.Multiline), metrics);
    }

    [Theory]
    [InlineData("bad name")]
    [InlineData("a\u0001")]
    [InlineData("")]
    public void AConfiguredSurfaceName_MustBeAPlainName(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => Hosting.LasthopeServer.LoadOptions(new Hosting.ServerSetup
        {
            Settings = new Dictionary<string, string?> { [$"Lasthope:Serving:Surfaces:{name}:RerankDepth"] = "10" },
        }));
        Assert.Contains("Serving:Surfaces", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("home", "home")]
    [InlineData("a\u0000\"b\\c\nd", "a__b_c_d")]
    public void MetricLabels_AreSanitised(string value, string label) => Assert.Equal(label, Telemetry.LasthopeMetrics.Label(value));
}
