using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lasthope.Server.Configuration;
using Lasthope.Server.Hosting;
using Lasthope.Server.Security;

namespace Lasthope.Server.Tests;

/// <summary>API keys and scopes: 401 without a known key, 403 without the endpoint's scope, and the loopback default.</summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private const string RankKey = "rank-key-0123456789abcdef";
    private const string EventsKey = "events-key-0123456789abcdef";
    private const string AdminKey = "admin-key-0123456789abcdef";
    private LoopbackServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
    {
        ["Lasthope:Security:ApiKeys:0:Name"] = "ranker",
        ["Lasthope:Security:ApiKeys:0:Key"] = RankKey,
        ["Lasthope:Security:ApiKeys:0:Scopes:0"] = Scopes.Rank,
        ["Lasthope:Security:ApiKeys:1:Name"] = "tracker",
        ["Lasthope:Security:ApiKeys:1:Key"] = EventsKey,
        ["Lasthope:Security:ApiKeys:1:Scopes:0"] = Scopes.Events,
        // The admin key is configured by its hash only: a configuration file need not hold the secret.
        ["Lasthope:Security:ApiKeys:2:Name"] = "operator",
        ["Lasthope:Security:ApiKeys:2:KeySha256"] = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(AdminKey))),
        ["Lasthope:Security:ApiKeys:2:Scopes:0"] = Scopes.Admin,
    });

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key, HttpContent? content = null, string scheme = "Bearer")
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue(scheme, key);
        }

        return await _server.Client.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static JsonContent Rank() => JsonContent.Create(new { requestId = $"r-{Guid.NewGuid():N}", surface = "home", user = new { id = "u" }, candidates = new[] { "a", "b" } });

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task NoKey_UnknownKey_OrAnotherScheme_Are401_WithAChallenge()
    {
        using var none = await SendAsync(HttpMethod.Post, "/v1/rank", null, Rank());
        var problem = await ProblemAsync(none, HttpStatusCode.Unauthorized);
        Assert.Contains("Authorization: Bearer KEY", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);

        using var unknown = await SendAsync(HttpMethod.Post, "/v1/rank", "not-a-key-of-this-server", Rank());
        Assert.Contains("not one this server knows", (await ProblemAsync(unknown, HttpStatusCode.Unauthorized)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var basic = await SendAsync(HttpMethod.Post, "/v1/rank", RankKey, Rank(), scheme: "Basic");
        await ProblemAsync(basic, HttpStatusCode.Unauthorized);

        using var huge = await SendAsync(HttpMethod.Post, "/v1/rank", new string('k', 10_000), Rank());
        await ProblemAsync(huge, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AKeyWithoutTheEndpointsScope_Is403_NamingTheScope()
    {
        using var events = await SendAsync(HttpMethod.Post, "/v1/rank", EventsKey, Rank());
        var problem = await ProblemAsync(events, HttpStatusCode.Forbidden);
        Assert.Contains("'tracker' lacks the scope 'rank'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var model = new StringContent(TestModels.SmallModel, Encoding.UTF8, "text/plain");
        using var upload = await SendAsync(HttpMethod.Post, "/v1/models?surface=home&activate=true&version=attacker-v1", RankKey, model);
        Assert.Contains("lacks the scope 'admin'", (await ProblemAsync(upload, HttpStatusCode.Forbidden)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var deactivate = await SendAsync(HttpMethod.Post, "/v1/surfaces/home/deactivate", EventsKey);
        await ProblemAsync(deactivate, HttpStatusCode.Forbidden);

        using var click = await SendAsync(HttpMethod.Post, "/v1/events", RankKey, JsonContent.Create(new { events = new[] { new { eventId = "e", itemId = "a" } } }));
        await ProblemAsync(click, HttpStatusCode.Forbidden);

        using var items = await SendAsync(HttpMethod.Post, "/v1/items", RankKey, JsonContent.Create(new { items = new[] { new { id = "a", category = "c" } } }));
        await ProblemAsync(items, HttpStatusCode.Forbidden);

        // Nothing of the refused requests took effect.
        using var ranked = await SendAsync(HttpMethod.Post, "/v1/rank", RankKey, Rank());
        Assert.Equal("heuristic", (await ranked.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("servedBy").GetString());
        Assert.Equal(0, (await _server.Store.CountAsync(TestContext.Current.CancellationToken)).Events);
    }

    [Fact]
    public async Task EachKey_DoesWhatItsScopeAllows()
    {
        using var ranked = await SendAsync(HttpMethod.Post, "/v1/rank", RankKey, Rank());
        Assert.Equal(HttpStatusCode.OK, ranked.StatusCode);
        using var stats = await SendAsync(HttpMethod.Get, "/v1/items/a/stats", RankKey);
        Assert.Equal(HttpStatusCode.OK, stats.StatusCode);
        using var click = await SendAsync(HttpMethod.Post, "/v1/events", EventsKey, JsonContent.Create(new { events = new[] { new { eventId = "e1", itemId = "a" } } }));
        Assert.Equal(HttpStatusCode.OK, click.StatusCode);
        using var items = await SendAsync(HttpMethod.Post, "/v1/items", EventsKey, JsonContent.Create(new { items = new[] { new { id = "a", category = "c" } } }));
        Assert.Equal(HttpStatusCode.OK, items.StatusCode);

        using var model = new StringContent(TestModels.SmallModel, Encoding.UTF8, "text/plain");
        using var upload = await SendAsync(HttpMethod.Post, "/v1/models?surface=home&activate=true", AdminKey, model);
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        using var list = await SendAsync(HttpMethod.Get, "/v1/models", RankKey);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        using var status = await SendAsync(HttpMethod.Get, "/v1/status", EventsKey);
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
    }

    [Fact]
    public async Task HealthAndMetrics_StayOpen_UnknownRoutesNeedAKeyToo()
    {
        using var live = await SendAsync(HttpMethod.Get, "/health/live", null);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using var ready = await SendAsync(HttpMethod.Get, "/health/ready", null);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var metrics = await SendAsync(HttpMethod.Get, "/metrics", null);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        using var status = await SendAsync(HttpMethod.Get, "/v1/status", null);
        await ProblemAsync(status, HttpStatusCode.Unauthorized);
        using var nowhere = await SendAsync(HttpMethod.Get, "/v1/nowhere", null);
        await ProblemAsync(nowhere, HttpStatusCode.Unauthorized);
        using var found = await SendAsync(HttpMethod.Get, "/v1/nowhere", RankKey);
        await ProblemAsync(found, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ProtectMetrics_PutsMetricsBehindAKey()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Security:ApiKeys:0:Key"] = RankKey,
            ["Lasthope:Security:ApiKeys:0:Scopes:0"] = Scopes.Rank,
            ["Lasthope:Security:ProtectMetrics"] = "true",
        });
        using var open = await server.Client.GetAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, open.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", RankKey);
        using var keyed = await server.Client.SendAsync(request, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, keyed.StatusCode);
    }

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://*:0")]
    [InlineData("http://127.0.0.1:0;http://[::]:0")]
    public async Task WithoutKeys_TheServerRefusesToListenBeyondLoopback(string urls)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => LasthopeServer.StartAsync(new ServerSetup { Urls = urls, Store = new Core.Storage.InMemoryEventStore() }));
        Assert.Contains("no API key is configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BeyondLoopback_StartsWithKeys_OrWithAllowAnonymousSetExplicitly()
    {
        await using (var keyed = await LasthopeServer.StartAsync(new ServerSetup
        {
            Urls = "http://0.0.0.0:0",
            Store = new Core.Storage.InMemoryEventStore(),
            Settings = new Dictionary<string, string?> { ["Lasthope:Security:ApiKeys:0:Key"] = RankKey, ["Lasthope:Security:ApiKeys:0:Scopes:0"] = "rank" },
        }))
        {
            // The address actually bound, with its real port, not the one asked for.
            Assert.Equal("0.0.0.0", Assert.Single(keyed.Addresses).Host);
            Assert.NotEqual(0, keyed.Addresses[0].Port);
        }

        await using var anonymous = await LasthopeServer.StartAsync(new ServerSetup
        {
            Urls = "http://0.0.0.0:0",
            Store = new Core.Storage.InMemoryEventStore(),
            Settings = new Dictionary<string, string?> { ["Lasthope:Security:AllowAnonymous"] = "true" },
        });
        Assert.NotEqual(0, anonymous.BaseAddress.Port);
    }

    [Theory]
    [InlineData("http://127.0.0.1:notaport")]
    [InlineData("http://127.0.0.1:99999")]
    [InlineData("http://127.0.0.1:-1")]
    [InlineData("ftp://127.0.0.1:8080")]
    [InlineData("127.0.0.1:8080")]
    [InlineData("http://127.0.0.1:8080/path")]
    [InlineData(" ")]
    public void AnAddressThatDoesNotParse_IsRefused_NamingIt(string urls)
    {
        var error = Assert.Throws<ArgumentException>(() => ListenAddresses.Parse(urls));
        Assert.Contains("--urls", error.Message, StringComparison.Ordinal);
        if (!string.IsNullOrWhiteSpace(urls))
        {
            Assert.Contains(urls, error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://127.0.0.2:0", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("https://0.0.0.0:443", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://10.1.2.3:8080", false)]
    [InlineData("http://lasthope.example:8080", false)]
    public void Loopback_IsOnlyLoopbackLiteralsAndLocalhost(string url, bool loopback)
        => Assert.Equal(loopback, ListenAddresses.IsLoopback(ListenAddresses.Parse(url)[0]));

    [Fact]
    public void KeysAreCheckedForShape_AtStart()
    {
        static void Check(params (string Key, string? Value)[] settings)
        {
            var error = Assert.Throws<ArgumentException>(() => LasthopeServer.LoadOptions(new ServerSetup { Settings = settings.ToDictionary(s => s.Key, s => s.Value) }));
            Assert.Contains("Security:ApiKeys:0", error.Message, StringComparison.Ordinal);
        }

        Check(("Lasthope:Security:ApiKeys:0:Key", "short"), ("Lasthope:Security:ApiKeys:0:Scopes:0", "rank"));
        Check(("Lasthope:Security:ApiKeys:0:Key", RankKey), ("Lasthope:Security:ApiKeys:0:Scopes:0", "everything"));
        Check(("Lasthope:Security:ApiKeys:0:Key", RankKey));
        Check(("Lasthope:Security:ApiKeys:0:KeySha256", "abc"), ("Lasthope:Security:ApiKeys:0:Scopes:0", "rank"));
        Check(("Lasthope:Security:ApiKeys:0:Key", RankKey), ("Lasthope:Security:ApiKeys:0:KeySha256", new string('a', 64)), ("Lasthope:Security:ApiKeys:0:Scopes:0", "rank"));
    }

    [Fact]
    public void TheKeyTable_FindsOnlyConfiguredKeys()
    {
        var table = new ApiKeyTable(new SecurityOptions { ApiKeys = [new ApiKeyOptions { Name = "k", Key = RankKey, Scopes = ["rank"] }] });
        Assert.Equal("k", table.Find(RankKey)?.Name);
        Assert.Null(table.Find(RankKey + "x"));
        Assert.Null(table.Find(RankKey.AsSpan(0, RankKey.Length - 1)));
        Assert.Null(table.Find(""));
        Assert.True(new ApiKeyTable(new SecurityOptions()).Open);
    }
}
