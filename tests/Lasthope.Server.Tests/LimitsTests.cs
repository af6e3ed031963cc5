using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Lasthope.Server.Tests;

/// <summary>What one client may hold of the server: rate limits, upload sizes, slow bodies, the serving door.</summary>
public sealed class LimitsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    [Fact]
    public async Task AdminCalls_PastTheirBucket_Get429WithRetryAfter_PerClient()
    {
        const string first = "first-admin-key-0123456789", second = "second-admin-key-0123456789";
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Security:RateLimits:AdminPerSecond"] = "0.1",
            ["Lasthope:Security:RateLimits:AdminBurst"] = "2",
            ["Lasthope:Security:ApiKeys:0:Name"] = "one",
            ["Lasthope:Security:ApiKeys:0:Key"] = first,
            ["Lasthope:Security:ApiKeys:0:Scopes:0"] = "admin",
            ["Lasthope:Security:ApiKeys:1:Name"] = "two",
            ["Lasthope:Security:ApiKeys:1:Key"] = second,
            ["Lasthope:Security:ApiKeys:1:Scopes:0"] = "admin",
        });

        async Task<HttpResponseMessage> DeactivateAsync(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/surfaces/home/deactivate");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return await server.Client.SendAsync(request, Ct);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await DeactivateAsync(first)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await DeactivateAsync(first)).StatusCode);
        using var limited = await DeactivateAsync(first);
        var problem = await ProblemAsync(limited, (HttpStatusCode)429);
        Assert.Contains("Security:RateLimits:AdminPerSecond", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        Assert.Equal(HttpStatusCode.NoContent, (await DeactivateAsync(second)).StatusCode); // another client has its own bucket
    }

    [Fact]
    public async Task Events_PastTheirBucket_Get429_AndNothingOfTheBatchCounts()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Security:RateLimits:EventsPerSecond"] = "0.1",
            ["Lasthope:Security:RateLimits:EventsBurst"] = "1",
        });
        await server.PostEventsAsync(new { eventId = "e1", itemId = "a" });
        using var limited = await server.Client.PostAsJsonAsync("/v1/events", new { events = new[] { new { eventId = "e2", itemId = "a" } } }, Ct);
        await ProblemAsync(limited, (HttpStatusCode)429);
        Assert.Equal(1, (await server.Store.CountAsync(Ct)).Events);
    }

    [Fact]
    public async Task AClickOnAnItemTheRankingDidNotShow_IsRejectedWithItsReason()
    {
        await using var server = await LoopbackServer.StartAsync();
        await server.RankAsync(new { requestId = "r1", surface = "home", user = new { id = "u" }, candidates = new[] { "a", "b", "c" }, count = 2 });
        var response = await server.PostEventsAsync(
            new { eventId = "e1", itemId = "a", requestId = "r1" },
            new { eventId = "e2", itemId = "c", requestId = "r1" }, // a candidate, but not shown
            new { eventId = "e3", itemId = "z", requestId = "r1" });
        Assert.Equal(1, response.GetProperty("accepted").GetInt32());
        var rejected = response.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal(["events[1].itemId", "events[2].itemId"], rejected.Select(r => r.GetProperty("field").GetString()));
        Assert.Contains("was not in the ranking 'r1'", rejected[0].GetProperty("reason").GetString(), StringComparison.Ordinal);

        // Also for a ranking that has left memory and is read back from the store.
        await server.FlushAsync();
        await server.StopKeepingDataAsync();
        await using var restarted = await LoopbackServer.StartAsync(dataDirectory: server.DataDirectory);
        var again = await restarted.PostEventsAsync(new { eventId = "e4", itemId = "b", requestId = "r1" }, new { eventId = "e5", itemId = "c", requestId = "r1" });
        Assert.Equal(1, again.GetProperty("accepted").GetInt32());
        Assert.Equal("events[1].itemId", again.GetProperty("rejected")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task AModelPastTheSizeLimit_Is413_DeclaredOrStreamed_AndNothingIsRegistered()
    {
        var limit = Encoding.UTF8.GetByteCount(TestModels.SmallModel) + 1024;
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Limits:MaxModelBytes"] = $"{limit}" });
        using var declared = new ByteArrayContent(new byte[limit + 1]);
        using var refused = await server.Client.PostAsync("/v1/models?surface=home", declared, Ct);
        Assert.Contains("Limits:MaxModelBytes", (await ProblemAsync(refused, HttpStatusCode.RequestEntityTooLarge)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Chunked, so the size is only known as it arrives: answered 413 as soon as the body passes the limit, while
        // the client is still sending (a raw socket, since HttpClient stops at the broken pipe before it reads).
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, server.Server.BaseAddress.Port, Ct);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("POST /v1/models?surface=home HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), Ct);
            var chunk = Encoding.ASCII.GetBytes($"{1024:x}\r\n{new string('x', 1024)}\r\n");
            for (var sent = 0; sent < limit + 4096; sent += 1024)
            {
                await stream.WriteAsync(chunk, Ct);
            }

            var reader = new StreamReader(stream, Encoding.ASCII);
            var status = await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
            Assert.StartsWith("HTTP/1.1 413", status, StringComparison.Ordinal);
        }

        Assert.Empty((await server.Client.GetFromJsonAsync<JsonElement>("/v1/models", Ct)).EnumerateArray());

        // Within the limit, a model still registers.
        Assert.NotNull(await CascadeTests.RegisterAsync(server, TestModels.SmallModel, "home"));
    }

    [Fact]
    public async Task ASecondUpload_WhileOneIsInProgress_Is429()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Limits:MinBodyBytesPerSecond"] = "0" });

        // The first upload: headers and a little of its body, then nothing for now.
        using var first = new TcpClient();
        await first.ConnectAsync(IPAddress.Loopback, server.Server.BaseAddress.Port, Ct);
        await first.GetStream().WriteAsync(Encoding.ASCII.GetBytes("POST /v1/models?surface=home HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\ntree"), Ct);
        HttpResponseMessage? refused = null;
        for (var attempt = 0; attempt < 50 && refused?.StatusCode != (HttpStatusCode)429; attempt++)
        {
            refused?.Dispose();
            await Task.Delay(100, Ct); // until the server is receiving the first upload
            refused = await server.Client.PostAsync("/v1/models?surface=home", new StringContent(TestModels.SmallModel, Encoding.UTF8, "text/plain"), Ct);
            Assert.NotEqual(HttpStatusCode.Created, refused.StatusCode);
        }

        await ProblemAsync(refused!, (HttpStatusCode)429);
        Assert.Equal("5", refused!.Headers.GetValues("Retry-After").Single());
        refused.Dispose();

        // The first upload ends (its client goes away): the gate is free again.
        first.Dispose();
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var retry = await server.Client.PostAsync("/v1/models?surface=home", new StringContent(TestModels.SmallModel, Encoding.UTF8, "text/plain"), Ct);
            if (retry.StatusCode == HttpStatusCode.Created)
            {
                return;
            }

            Assert.Equal((HttpStatusCode)429, retry.StatusCode);
            await Task.Delay(100, Ct);
        }

        Assert.Fail("the upload gate was not released after the first upload's client went away");
    }

    [Fact]
    public async Task SlowSenders_DoNotHoldTheServingDoor_AndTimeOutWith408()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:MaxRequestsInFlight"] = "2",
            ["Lasthope:Limits:BodyReadTimeoutMs"] = "1500",
        });
        var port = server.Server.BaseAddress.Port;
        var slow = new List<TcpClient>();
        try
        {
            // Ten connections that announce a body and send almost none of it: more than the door's two places.
            for (var i = 0; i < 10; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, Ct);
                var head = $"POST /v1/rank HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{{\"user\"";
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head), Ct);
                slow.Add(client);
            }

            await Task.Delay(200, Ct);
            for (var i = 0; i < 5; i++)
            {
                var ranked = await server.RankAsync(new { surface = "home", user = new { id = $"u{i}" }, candidates = new[] { "a", "b" } });
                Assert.Equal("heuristic", ranked.GetProperty("servedBy").GetString());
            }

            // Past the body deadline each slow sender is answered 408 and its connection closed.
            var reader = new StreamReader(slow[0].GetStream(), Encoding.ASCII);
            var statusLine = await reader.ReadLineAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(15), Ct);
            Assert.StartsWith("HTTP/1.1 408", statusLine, StringComparison.Ordinal);
        }
        finally
        {
            slow.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task PastMaxConcurrentBodyReads_ABodyIsRefusedWith503_BeforeAnyRead()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?> { ["Lasthope:Limits:MaxConcurrentBodyReads"] = "1" });
        using var holder = new TcpClient();
        await holder.ConnectAsync(IPAddress.Loopback, server.Server.BaseAddress.Port, Ct);
        await holder.GetStream().WriteAsync(Encoding.ASCII.GetBytes("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"), Ct);
        await Task.Delay(300, Ct);
        using var refused = await server.Client.PostAsJsonAsync("/v1/rank", new { user = new { id = "u" }, candidates = new[] { "a" } }, Ct);
        await ProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("1", refused.Headers.GetValues("Retry-After").Single());
    }
}
