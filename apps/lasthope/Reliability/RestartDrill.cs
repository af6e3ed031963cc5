using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The restart drill: requests that once broke every start, and must leave a data directory that restarts with the
/// same counts. A recommendation on an empty store, a ranking whose every candidate is excluded, a candidate id with
/// a control character (the old separator of stored lists), then rankings and clicks with random-Unicode ids. Then a
/// clean stop (SIGTERM), a restart, and /v1/status and every item's /v1/items/{id}/stats compared with what they said
/// before.
/// </summary>
/// <remarks>
/// Each request must be answered 200, except the control-character id: the issue asked for 200, and the server has
/// since chosen to refuse control characters in ids at the door (400 naming <c>candidates[0]</c>, README "Security and
/// limits"). The drill accepts either answer, and says which it got; what it must not do is break the restart.
/// </remarks>
public sealed class RestartDrill(ReliabilityOptions options) : IDrill
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private static readonly string[] StatusCounts = ["rankings", "impressions", "events", "users", "trackedItems"];

    public string Name => "restart";

    public async Task RunAsync(DrillResult result, DrillWorkspace workspace, IProgress<double> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(workspace);
        var data = workspace.NewDataDirectory();
        var random = new Random(options.Seed);
        var items = new List<string> { "a", "a\u001fb" };
        var requests = new List<(string Path, Func<string> Body, string? RefusableField)>
        {
            ("/v1/recommend", () => """{"user":{"id":"u"}}""", null),
            ("/v1/rank", () => """{"user":{"id":"u"},"candidates":["a"],"exclude":["a"]}""", null),
            ("/v1/rank", () => """{"user":{"id":"u"},"candidates":["a\u001fb"]}""", "candidates[0]"),
        };
        var served = new List<(string RequestId, string Item)>();
        for (var i = 0; i < options.UnicodeRequests; i++)
        {
            var candidates = Enumerable.Range(0, 5).Select(_ => UnicodeId(random)).ToList();
            items.AddRange(candidates);
            var requestId = UnicodeId(random);
            var body = new JsonObject
            {
                ["requestId"] = requestId,
                ["user"] = new JsonObject { ["id"] = UnicodeId(random), ["age"] = random.Next(18, 80), ["gender"] = random.Next(2) == 0 ? "f" : "m" },
                ["candidates"] = new JsonArray([.. candidates.Select(c => (JsonNode)c)]),
                ["count"] = 3,
            };
            var json = body.ToJsonString();
            requests.Add(("/v1/rank", () => json, null));
        }

        // A click on an item each Unicode ranking served (built once they are answered), with Unicode event and user ids.
        requests.Add(("/v1/events", () => new JsonObject
        {
            ["events"] = new JsonArray([.. served.Select(s => (JsonNode)new JsonObject { ["eventId"] = UnicodeId(random), ["itemId"] = s.Item, ["requestId"] = s.RequestId, ["userId"] = UnicodeId(random) })]),
        }.ToJsonString(), null));

        int ok = 0, refused = 0;
        Snapshot before;
        int? exitCode;
        var server = await workspace.StartServerAsync(data, cancellationToken);
        try
        {
            foreach (var (path, makeBody, refusable) in requests)
            {
                var body = makeBody();
                var (status, answer) = await DrillHttp.PostJsonAsync(server.Http, path, body, CallTimeout, cancellationToken);
                if (status == HttpStatusCode.OK)
                {
                    ok++;
                    if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("items", out var shown) && shown.GetArrayLength() > 0 &&
                        answer.TryGetProperty("requestId", out var id))
                    {
                        served.Add((id.GetString()!, shown[random.Next(shown.GetArrayLength())].GetProperty("id").GetString()!));
                    }

                    if (answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("rejected", out var rejected) && rejected.ValueKind == JsonValueKind.Array)
                    {
                        result["eventsRejected"] = rejected.GetArrayLength();
                        foreach (var reason in rejected.EnumerateArray().Take(5))
                        {
                            result.Note($"POST {path}: event rejected: {Shorten(reason.GetRawText())}");
                        }
                    }
                }
                else if (refusable is not null && status == HttpStatusCode.BadRequest && NamesField(answer, refusable))
                {
                    refused++;
                    result.Note($"POST {path} {Shorten(body)} was refused by the id contract: 400 naming {refusable}");
                }
                else
                {
                    result.Note($"POST {path} {Shorten(body)} was answered {(int)status}: {Shorten(answer.ValueKind == JsonValueKind.Undefined ? string.Empty : answer.GetRawText())}");
                }
            }

            progress.Report(0.3);
            await WaitForImpressionLogAsync(server, cancellationToken);
            before = await SnapshotAsync(server, items, cancellationToken);
            exitCode = await server.StopAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            await server.DisposeAsync();
        }

        progress.Report(0.6);
        result["requests"] = requests.Count;
        result["requests200"] = ok;
        result["requestsRefusedByIdContract"] = refused;
        result["stopExitCode"] = exitCode ?? -1;
        result.Expect(
            "requests answered 200 (or refused by the id contract)",
            ok + refused == requests.Count,
            refused == 0 ? $"{ok} of {requests.Count}" : $"{ok} + {refused} refused of {requests.Count}",
            "all");
        result.Expect("clean stop (SIGTERM)", exitCode == 0, exitCode is { } code ? $"exit code {code}" : "did not exit in 30 s", "exit code 0");
        var started = Stopwatch.GetTimestamp();
        try
        {
            server = await workspace.StartServerAsync(data, cancellationToken);
        }
        catch (ServerStartException e)
        {
            result["restarted"] = 0;
            result.Note($"restart failed: {e.Message}");
            result.Expect("restart on the same data", false, "failed", "starts");
            return;
        }

        await using (server)
        {
            result["restarted"] = 1;
            result["restartMs"] = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            result.Expect("restart on the same data", true, string.Create(CultureInfo.InvariantCulture, $"live in {result["restartMs"]:F0} ms"), "starts");
            var after = await SnapshotAsync(server, items, cancellationToken);
            var statusDifferences = StatusCounts.Where(c => before.Status[c] != after.Status[c]).ToList();
            foreach (var name in statusDifferences)
            {
                result.Note($"/v1/status {name}: {before.Status[name]} before, {after.Status[name]} after the restart");
            }

            var itemDifferences = 0;
            foreach (var (item, stats) in before.Items)
            {
                if (stats != after.Items[item])
                {
                    itemDifferences++;
                    result.Note($"item {JsonSerializer.Serialize(item)}: {stats} before, {after.Items[item]} after the restart");
                }
            }

            result["statusDifferences"] = statusDifferences.Count;
            result["itemsCompared"] = before.Items.Count;
            result["itemDifferences"] = itemDifferences;
            foreach (var name in StatusCounts)
            {
                result[$"status.{name}"] = before.Status[name];
            }

            result.Info("status before the restart", string.Join(", ", StatusCounts.Select(c => $"{c} {before.Status[c]}")));
            result.AtMost("/v1/status counts that changed", statusDifferences.Count, 0);
            result.AtMost($"items whose stats changed (of {before.Items.Count})", itemDifferences, 0);
        }
    }

    /// <summary>1 to 24 random Unicode scalar values from every plane (no surrogate halves, no '/', which a path cannot carry).</summary>
    private static string UnicodeId(Random random)
    {
        var text = new StringBuilder();
        var length = random.Next(1, 25);
        while (text.Length < length)
        {
            var scalar = random.Next(4) switch
            {
                0 => random.Next(0x20, 0x7f),
                1 => random.Next(0xa0, 0xd800),
                2 => random.Next(0xe000, 0x10000),
                _ => random.Next(0x10000, 0x110000),
            };
            if (scalar != '/')
            {
                text.Append(char.ConvertFromUtf32(scalar));
            }
        }

        return text.ToString();
    }

    /// <summary>A problem answer whose "errors" names <paramref name="field"/>.</summary>
    private static bool NamesField(JsonElement problem, string field)
        => problem.ValueKind == JsonValueKind.Object && problem.TryGetProperty("errors", out var errors) &&
           errors.ValueKind == JsonValueKind.Object && errors.TryGetProperty(field, out _);

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "...";

    /// <summary>Waits (at most 15 s) until the impression log has written everything it queued.</summary>
    private static async Task WaitForImpressionLogAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(15))
        {
            var (_, status) = await DrillHttp.GetJsonAsync(server.Http, "/v1/status", CallTimeout, cancellationToken);
            if (status.ValueKind == JsonValueKind.Object && status.TryGetProperty("impressionLogQueued", out var queued) && queued.GetInt64() == 0)
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private sealed record Snapshot(Dictionary<string, long> Status, Dictionary<string, string> Items);

    /// <summary>The status counts and, per item, its stats' counts (overall and per segment) as one comparable string.</summary>
    private static async Task<Snapshot> SnapshotAsync(ServerProcess server, IEnumerable<string> items, CancellationToken cancellationToken)
    {
        var (code, status) = await DrillHttp.GetJsonAsync(server.Http, "/v1/status", CallTimeout, cancellationToken);
        if (code != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"/v1/status answered {(int)code}");
        }

        var counts = StatusCounts.ToDictionary(c => c, c => status.TryGetProperty(c, out var v) ? v.GetInt64() : -1, StringComparer.Ordinal);
        var stats = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items.Distinct(StringComparer.Ordinal))
        {
            var (itemCode, body) = await DrillHttp.GetJsonAsync(server.Http, $"/v1/items/{Uri.EscapeDataString(item)}/stats", CallTimeout, cancellationToken);
            stats[item] = $"{(int)itemCode} {Counts(body)}";
        }

        return new Snapshot(counts, stats);
    }

    private static string Counts(JsonElement stats)
    {
        if (stats.ValueKind != JsonValueKind.Object || !stats.TryGetProperty("overall", out var overall))
        {
            return "-";
        }

        static string Of(JsonElement s) => string.Join(
            '/',
            new[] { "impressions7d", "clicks7d", "impressions30d", "clicks30d" }.Select(f => s.TryGetProperty(f, out var v) ? v.GetDouble().ToString("R", CultureInfo.InvariantCulture) : "?"));
        var segments = stats.TryGetProperty("segments", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Select(s => $"{s.GetProperty("segment").GetString()}={Of(s)}").Order(StringComparer.Ordinal)
            : Enumerable.Empty<string>();
        var known = stats.TryGetProperty("known", out var k) ? k.ToString() : "?";
        return $"known={known} overall={Of(overall)} {string.Join(' ', segments)}";
    }
}
