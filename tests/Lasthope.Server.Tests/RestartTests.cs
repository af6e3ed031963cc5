using System.Net;
using System.Text;
using System.Text.Json;
using CsCheck;

namespace Lasthope.Server.Tests;

/// <summary>
/// Whatever the API accepts, a restart reads back: the same counts, item stats and explanations. Requests it does not
/// accept are 4xx, never 5xx, and leave nothing behind.
/// </summary>
public sealed class RestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>JSON text with every character outside printable ASCII escaped, so that lone surrogates reach the server as sent.</summary>
    private static string Json(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            if (c is >= ' ' and <= '~' and not '"' and not '\\')
            {
                text.Append(c);
            }
            else
            {
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }

        return text.Append('"').ToString();
    }

    private static string JsonArray(IEnumerable<string> values) => "[" + string.Join(',', values.Select(Json)) + "]";

    private static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(LoopbackServer server, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await server.Client.PostAsync(path, content, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for {json}: {body}");
        return (response.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    /// <summary>What must read back the same: status counts, then per item its stats, then per request its explanation.</summary>
    private static async Task<List<string>> SnapshotAsync(LoopbackServer server, IEnumerable<string> items, IEnumerable<string> requests)
    {
        var status = JsonDocument.Parse(await server.Client.GetStringAsync("/v1/status", Ct)).RootElement;
        var snapshot = new List<string> { $"rankings={status.GetProperty("rankings")} impressions={status.GetProperty("impressions")} events={status.GetProperty("events")} skipped={status.GetProperty("skippedRecords").GetProperty("count")}" };
        foreach (var item in items.Order(StringComparer.Ordinal))
        {
            snapshot.Add($"{item}: {await server.Client.GetStringAsync($"/v1/items/{Uri.EscapeDataString(item)}/stats", Ct)}");
        }

        foreach (var request in requests.Order(StringComparer.Ordinal))
        {
            using var explain = await server.Client.GetAsync($"/v1/rank/{Uri.EscapeDataString(request)}/explain", Ct);
            snapshot.Add($"{request}: {(int)explain.StatusCode} {await explain.Content.ReadAsStringAsync(Ct)}");
        }

        return snapshot;
    }

    private static async Task<List<string>> RestartAndSnapshotAsync(LoopbackServer server, HashSet<string> items, HashSet<string> requests)
    {
        await server.FlushAsync();
        var before = await SnapshotAsync(server, items, requests);
        await server.StopKeepingDataAsync();
        await using var restarted = await LoopbackServer.StartAsync(dataDirectory: server.DataDirectory, clock: server.Clock);
        var after = await SnapshotAsync(restarted, items, requests);
        Assert.Equal(before, after);
        Assert.Contains("skipped=0", after[0], StringComparison.Ordinal);
        return after;
    }

    [Fact]
    public async Task TheRequestsThatOnceBrokeEveryStart_LeaveADirectoryThatRestartsTheSame()
    {
        var server = await LoopbackServer.StartAsync();
        var (status, _) = await PostAsync(server, "/v1/rank", """{"requestId":"r1","user":{"id":"u"},"candidates":["a"],"exclude":["a"]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _) = await PostAsync(server, "/v1/recommend", """{"requestId":"r2","user":{"id":"u"}}""");
        Assert.Equal(HttpStatusCode.OK, status); // an empty store: an empty list, logged
        (status, _) = await PostAsync(server, "/v1/rank", """{"requestId":"r3","user":{"id":"u"},"candidates":["a\u001fb"]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status); // a separator in an id is refused at the door now
        (status, _) = await PostAsync(server, "/v1/rank", """{"requestId":"r4","user":{"id":"u"},"candidates":["é","😀","a b"]}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var after = await RestartAndSnapshotAsync(server, ["a", "é", "😀", "a b"], ["r1", "r2", "r4"]);
        Assert.Contains("rankings=3 impressions=3", after[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ArbitraryStringsThroughTheApi_RestartWithTheSameCountsStatsAndExplanations()
    {
        // Characters that break formats: controls, the old separators, quotes, surrogates alone and in pairs.
        var awkward = Gen.OneOf(Gen.Char['a', 'd'], Gen.Char, Gen.Char['\u0000', '\u001f'], Gen.Const('\u001e'), Gen.Const('\u001f'), Gen.Const('"'), Gen.Const('\\'), Gen.Char['\ud800', '\udfff'], Gen.Const('é'));
        var ids = Gen.Frequency((1, Gen.String[awkward, 0, 6]), (1, Gen.Const("😀")), (8, Gen.String[Gen.Char['a', 'e'], 1, 3]));
        var batch = Gen.Select(ids.Array[1, 6], ids.Array[0, 3], ids, Gen.Int[1, 4], ids, ids);
        var server = await LoopbackServer.StartAsync();
        var items = new HashSet<string>(StringComparer.Ordinal);
        var requests = new HashSet<string>(StringComparer.Ordinal);
        var accepted = 0;
        var refused = 0;
        var serial = 0;
        await batch.SampleAsync(
            async sample =>
            {
                var (candidates, exclude, user, count, clicked, eventId) = sample;
                var requestId = $"p{serial++}";
                var (status, body) = await PostAsync(server, "/v1/rank", $$"""{"requestId":"{{requestId}}","surface":"home","user":{"id":{{Json(user)}}},"candidates":{{JsonArray(candidates)}},"exclude":{{JsonArray(exclude)}},"count":{{count}}}""");
                if (status != HttpStatusCode.OK)
                {
                    refused++;
                    Assert.Equal(HttpStatusCode.BadRequest, status);
                    return;
                }

                accepted++;
                requests.Add(requestId);
                foreach (var item in body.GetProperty("items").EnumerateArray())
                {
                    items.Add(item.GetProperty("id").GetString()!);
                }

                (status, _) = await PostAsync(server, "/v1/events", $$"""{"events":[{"eventId":{{Json(eventId + requestId)}},"itemId":{{Json(clicked)}},"requestId":"{{requestId}}"},{"eventId":"{{requestId}}-first","itemId":{{Json(candidates[0])}},"userId":{{Json(user)}}}]}""");
                Assert.True(status is HttpStatusCode.OK or HttpStatusCode.BadRequest);
                if (Core.Identifiers.Ids.IsValid(clicked))
                {
                    items.Add(clicked);
                }

                items.Add(candidates[0]);
            },
            iter: 150,
            threads: 1);
        Assert.True(accepted > 20 && refused > 20, $"the generator should produce both accepted ({accepted}) and refused ({refused}) requests");
        await RestartAndSnapshotAsync(server, [.. items.Where(i => Core.Identifiers.Ids.IsValid(i))], requests);
    }
}
