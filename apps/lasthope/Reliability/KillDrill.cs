using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lasthope.Cli.Demo;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// The kill drill: <see cref="ReliabilityOptions.Kills"/> rounds of concurrent event load with unique event ids, each
/// ended by a SIGKILL at a random moment, then a restart on the same data directory and a reckoning:
/// <list type="bullet">
/// <item>every acknowledged event (its batch answered 200 with every event accepted) is posted again: the store must
/// answer "duplicate" for each; one it accepts again was lost;</item>
/// <item>the events in doubt (their batch got no answer) are posted again too, which settles them;</item>
/// <item>the store's event count and every item's click count (the counters rebuilt at restart) must then equal the
/// ids sent, item by item: more is counted twice, less is missing.</item>
/// </list>
/// With <see cref="ReliabilityOptions.Postgres"/> a second replica runs beside the one killed, on the same database,
/// taking half the writers; after each reckoning its counters (which follow the log) must reach the same counts.
/// </summary>
public sealed class KillDrill(ReliabilityOptions options) : IDrill
{
    private const int Writers = 4;
    private const int Items = 16;
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    public string Name => "kills";

    public async Task RunAsync(DrillResult result, DrillWorkspace workspace, IProgress<double> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(workspace);
        var data = workspace.NewDataDirectory();
        var random = new Random(options.Seed);
        var expected = new long[Items];
        var restarts = new List<double>();
        long stored = 0, acknowledged = 0, inDoubt = 0, inDoubtStored = 0, lost = 0, doubled = 0, missing = 0, unexpected = 0, kills = 0, restartFailures = 0;
        var timeLimit = TimeSpan.FromSeconds(Math.Max(120, options.Kills * 20.0));
        var started = Stopwatch.GetTimestamp();
        long replicaDoubled = 0, replicaMissing = 0;
        var replicaLag = new List<double>();
        var server = await workspace.StartServerAsync(data, cancellationToken);
        var survivor = options.Postgres is null ? null : await workspace.StartServerAsync(workspace.NewDataDirectory(), cancellationToken);
        try
        {
            for (var round = 0; round < options.Kills && Stopwatch.GetElapsedTime(started) < timeLimit; round++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var ledger = new Ledger();
                using var stop = new CancellationTokenSource();
                var writers = Enumerable.Range(0, Writers).Select(w => WriteAsync(survivor is not null && w % 2 == 1 ? survivor : server, round, w, ledger, result, stop.Token)).ToList();
                await Task.Delay(random.Next(200, 1_000), cancellationToken);
                await server.KillAsync();
                kills++;
                await stop.CancelAsync();
                await Task.WhenAll(writers);
                await server.DisposeAsync();
                try
                {
                    server = await workspace.StartServerAsync(data, cancellationToken);
                }
                catch (ServerStartException e)
                {
                    restartFailures++;
                    result.Note($"restart after kill {kills} failed: {e.Message}");
                    break;
                }

                restarts.Add(server.StartupTime.TotalMilliseconds);
                acknowledged += ledger.Acknowledged.Count;
                inDoubt += ledger.InDoubt.Count;
                unexpected += ledger.UnexpectedDuplicates;

                // Before settling: the store holds every acknowledged event, perhaps some in doubt, nothing else;
                // the counters rebuilt from it count exactly what it holds.
                var before = await EventsStoredAsync(server, cancellationToken);
                var low = stored + ledger.Acknowledged.Count;
                var high = low + ledger.InDoubt.Count;
                var clicksBefore = (await ClicksAsync(server, cancellationToken)).Sum();
                doubled = Math.Max(doubled, Math.Max(before - high, clicksBefore - before));
                if (clicksBefore != before)
                {
                    result.Note($"kill {kills}: the counters count {clicksBefore} clicks, the store holds {before} events");
                }

                var again = await RepostAsync(server, ledger.Acknowledged, cancellationToken);
                if (again.Accepted > 0)
                {
                    lost += again.Accepted;
                    result.Note($"kill {kills}: {again.Accepted} of {ledger.Acknowledged.Count} acknowledged events were not in the store after the restart");
                }

                var settled = await RepostAsync(server, ledger.InDoubt, cancellationToken);
                inDoubtStored += settled.Duplicates;
                foreach (var (_, item) in ledger.Acknowledged.Concat(ledger.InDoubt))
                {
                    expected[item]++;
                }

                stored += ledger.Acknowledged.Count + ledger.InDoubt.Count;

                // After settling: the store and every item's counters match the ids sent, one for one.
                var after = await EventsStoredAsync(server, cancellationToken);
                var clicks = await ClicksAsync(server, cancellationToken);
                var excess = Math.Max(after - stored, clicks.Select((c, i) => Math.Max(0, c - expected[i])).Sum());
                var shortfall = Math.Max(stored - after, clicks.Select((c, i) => Math.Max(0, expected[i] - c)).Sum());
                doubled = Math.Max(doubled, excess);
                missing = Math.Max(missing, shortfall);
                if (excess > 0 || shortfall > 0)
                {
                    result.Note($"kill {kills}: store {after} events, counters {clicks.Sum()} clicks, ids sent {stored}");
                }

                if (survivor is not null)
                {
                    var (counted, waited) = await ConvergedClicksAsync(survivor, expected, cancellationToken);
                    replicaLag.Add(waited.TotalMilliseconds);
                    var excessThere = counted.Select((c, i) => Math.Max(0, c - expected[i])).Sum();
                    var shortThere = counted.Select((c, i) => Math.Max(0, expected[i] - c)).Sum();
                    replicaDoubled = Math.Max(replicaDoubled, excessThere);
                    replicaMissing = Math.Max(replicaMissing, shortThere);
                    if (excessThere > 0 || shortThere > 0)
                    {
                        result.Note($"kill {kills}: the surviving replica counts {counted.Sum()} clicks, ids sent {stored}");
                    }
                }

                progress.Report((double)(round + 1) / options.Kills);
            }
        }
        finally
        {
            await server.DisposeAsync();
            if (survivor is not null)
            {
                await survivor.DisposeAsync();
            }
        }

        var restart = LatencySummary.Of(restarts);
        result["kills"] = kills;
        result["restarts"] = restarts.Count;
        result["restartFailures"] = restartFailures;
        result["restartP50Ms"] = Math.Round(restart.P50);
        result["restartMaxMs"] = Math.Round(restart.Max);
        result["eventsAcknowledged"] = acknowledged;
        result["eventsInDoubt"] = inDoubt;
        result["eventsInDoubtStored"] = inDoubtStored;
        result["eventsStored"] = stored;
        result["lost"] = lost;
        result["doubled"] = doubled;
        result["missing"] = missing;
        result["unexpectedDuplicates"] = unexpected;

        result.AtLeast("SIGKILLs under load", kills, options.Kills);
        result.Expect("restarts that succeeded", restartFailures == 0 && restarts.Count == kills, $"{restarts.Count:N0} of {kills:N0}", "all");
        result.Info("restart time p50 / max", string.Create(CultureInfo.InvariantCulture, $"{restart.P50:F0} / {restart.Max:F0} ms"));
        result.Info("events acknowledged / in doubt at a kill", string.Create(CultureInfo.InvariantCulture, $"{acknowledged:N0} / {inDoubt:N0} ({inDoubtStored:N0} of those stored)"));
        result.AtMost("acknowledged events lost", lost, 0);
        result.AtMost("events counted twice", doubled, 0);
        result.AtMost("events missing from store or counters", missing, 0);
        result.AtMost("new ids answered as duplicates", unexpected, 0);
        if (survivor is not null)
        {
            var lag = LatencySummary.Of(replicaLag);
            result["replicaDoubled"] = replicaDoubled;
            result["replicaMissing"] = replicaMissing;
            result["replicaConvergedMaxMs"] = Math.Round(lag.Max);
            result.AtMost("events counted twice by the other replica", replicaDoubled, 0);
            result.AtMost("events missing from the other replica's counters", replicaMissing, 0);
            result.Info("the other replica caught up after each reckoning, max", string.Create(CultureInfo.InvariantCulture, $"{lag.Max:F0} ms"));
        }
    }

    /// <summary>The replica's click counts once they equal <paramref name="expected"/>, or as they are after 20 s; and how long that took.</summary>
    private static async Task<(long[] Clicks, TimeSpan Waited)> ConvergedClicksAsync(ServerProcess replica, long[] expected, CancellationToken cancellationToken)
    {
        var waiting = Stopwatch.StartNew();
        while (true)
        {
            var clicks = await ClicksAsync(replica, cancellationToken);
            if (clicks.SequenceEqual(expected) || waiting.Elapsed > TimeSpan.FromSeconds(20))
            {
                return (clicks, waiting.Elapsed);
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>One writer: batches of 1 to 50 new events, one after the other, until the kill stops it.</summary>
    private static async Task WriteAsync(ServerProcess server, int round, int writer, Ledger ledger, DrillResult result, CancellationToken stop)
    {
        var random = new Random((round * Writers) + writer);
        for (var batch = 0; batch < 100_000 && !stop.IsCancellationRequested; batch++)
        {
            var events = Enumerable.Range(0, random.Next(1, 51))
                .Select(i => ($"k{round}-{writer}-{batch}-{i}", random.Next(Items)))
                .ToList();
            try
            {
                var (status, body) = await DrillHttp.PostJsonAsync(server.Http, "/v1/events", Batch(events), CallTimeout, CancellationToken.None);
                if (status == HttpStatusCode.OK && Count(body, "accepted") == events.Count)
                {
                    ledger.Add(events, acknowledged: true);
                    continue;
                }

                ledger.Add(events, acknowledged: false);
                if (status == HttpStatusCode.OK)
                {
                    Interlocked.Add(ref ledger.UnexpectedDuplicates, (int)Count(body, "duplicates"));
                    result.Note($"a batch of {events.Count} new events was answered {body.GetRawText()}");
                }
                else
                {
                    result.Note($"a batch of {events.Count} events was answered {(int)status} before the kill");
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException or IOException)
            {
                ledger.Add(events, acknowledged: false); // no answer: the kill, most likely; in doubt either way
                return;
            }
        }
    }

    /// <summary>A count from an events answer; -1 when the answer does not have it.</summary>
    private static long Count(JsonElement body, string name)
        => body.ValueKind == JsonValueKind.Object && body.TryGetProperty(name, out var value) && value.TryGetInt64(out var count) ? count : -1;

    private static string Batch(IEnumerable<(string Id, int Item)> events)
        => new JsonObject
        {
            ["events"] = new JsonArray([.. events.Select(e => (JsonNode)new JsonObject
            {
                ["eventId"] = e.Id,
                ["itemId"] = $"kill-item-{e.Item.ToString(CultureInfo.InvariantCulture)}",
                ["userId"] = $"kill-user-{(e.Item % 5).ToString(CultureInfo.InvariantCulture)}",
            })]),
        }.ToJsonString();

    /// <summary>Posts events again, 500 a batch; returns how many the store accepted as new and how many it already had.</summary>
    private static async Task<(long Accepted, long Duplicates)> RepostAsync(ServerProcess server, List<(string Id, int Item)> events, CancellationToken cancellationToken)
    {
        long accepted = 0, duplicates = 0;
        foreach (var chunk in events.Chunk(500))
        {
            var (status, body) = await DrillHttp.PostJsonAsync(server.Http, "/v1/events", Batch(chunk), CallTimeout, cancellationToken);
            if (status != HttpStatusCode.OK)
            {
                throw new InvalidOperationException($"posting {chunk.Length} events again after a restart was answered {(int)status}: {body.GetRawText()}");
            }

            accepted += Count(body, "accepted");
            duplicates += Count(body, "duplicates");
        }

        return (accepted, duplicates);
    }

    private static async Task<long> EventsStoredAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        var (status, body) = await DrillHttp.GetJsonAsync(server.Http, "/v1/status", CallTimeout, cancellationToken);
        return status == HttpStatusCode.OK
            ? body.GetProperty("events").GetInt64()
            : throw new InvalidOperationException($"/v1/status answered {(int)status} after a restart");
    }

    /// <summary>Every drill item's click count over 30 days, from the server's counters.</summary>
    private static async Task<long[]> ClicksAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        var clicks = new long[Items];
        for (var i = 0; i < Items; i++)
        {
            var (status, body) = await DrillHttp.GetJsonAsync(server.Http, $"/v1/items/kill-item-{i.ToString(CultureInfo.InvariantCulture)}/stats", CallTimeout, cancellationToken);
            clicks[i] = status switch
            {
                HttpStatusCode.OK => (long)Math.Round(body.GetProperty("overall").GetProperty("clicks30d").GetDouble()),
                HttpStatusCode.NotFound => 0,
                _ => throw new InvalidOperationException($"item stats answered {(int)status}"),
            };
        }

        return clicks;
    }

    /// <summary>What a round's writers sent: acknowledged, or in doubt.</summary>
    private sealed class Ledger
    {
        private readonly Lock _gate = new();

        public int UnexpectedDuplicates;

        public List<(string Id, int Item)> Acknowledged { get; } = [];

        public List<(string Id, int Item)> InDoubt { get; } = [];

        public void Add(List<(string Id, int Item)> events, bool acknowledged)
        {
            lock (_gate)
            {
                (acknowledged ? Acknowledged : InDoubt).AddRange(events);
            }
        }
    }
}
