using System.Text.Json;
using Lasthope.Core.Segments;
using Lasthope.Counters;
using Lasthope.Server.Cascade;
using Lasthope.Server.Ranking;
using Microsoft.Extensions.DependencyInjection;

namespace Lasthope.Server.Tests;

public class LastResortTests
{
    [Fact]
    public async Task WhenNoTurnCanComeInTime_TheLastResortAnswersAtOnce_InTheHeuristicsOrder_WithItsNote()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:MaxConcurrentRequests"] = "1",
            ["Lasthope:Serving:BudgetMs"] = "300",
        });
        await CascadeTests.WarmCountersAsync(server);
        await server.FlushAsync();
        server.Server.Services.GetRequiredService<LastResort>().Refresh();

        // What the heuristic says of these candidates for an unknown user, with the counters as the tables saw them.
        var candidates = CascadeTests.Candidates;
        var ranker = server.State.Ranker;
        var scores = new double[candidates.Length];
        ranker.Score(SegmentScheme.Unknown, candidates, scores);
        var order = new int[candidates.Length];
        LastHopeRanker.Order(candidates, scores, order, 10);
        var expected = order.Take(10).Select(i => candidates[i]).ToList();

        var gate = server.Server.Services.GetRequiredService<ScoringGate>();
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct); // the only CPU turn is taken, and stays taken past the budget
        JsonElement response;
        try
        {
            response = await server.RankAsync(new { requestId = "starved", surface = "warm", user = new { id = "nobody-knows" }, candidates, count = 10 });
        }
        finally
        {
            gate.ExitHeuristic(0.2);
        }

        // No model on this surface: the heuristic served, from its tables, and says so in the note.
        Assert.Equal("heuristic", response.GetProperty("servedBy").GetString());
        Assert.Equal(JsonValueKind.Null, response.GetProperty("fallbackReason").ValueKind);
        Assert.Contains("last_resort", response.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(expected, response.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        // How late it answers depends on the machine's load: the load test measures that (scripts/cascade-bars.sh).
        Assert.False(response.GetProperty("timings").TryGetProperty("heuristic", out _), "no heuristic stage ran");
    }

    [Fact]
    public async Task BeforeAnyTable_OrWithoutCounters_TheLastResortStillAnswersEveryCandidate()
    {
        await using var server = await LoopbackServer.StartAsync(new Dictionary<string, string?>
        {
            ["Lasthope:Serving:MaxConcurrentRequests"] = "1",
            ["Lasthope:Serving:BudgetMs"] = "100",
        });
        var gate = server.Server.Services.GetRequiredService<ScoringGate>();
        var ct = TestContext.Current.CancellationToken;
        await gate.EnterAsync(ct);
        JsonElement response;
        try
        {
            response = await server.RankAsync(new { surface = "home", user = new { id = "u", age = 30, gender = "m" }, candidates = new[] { "b", "a", "c" }, count = 3 });
        }
        finally
        {
            gate.ExitHeuristic(0.2);
        }

        Assert.Contains("last_resort", response.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        // Empty counters: every item scores the prior, and the tie-break orders them by id.
        Assert.Equal(["a", "b", "c"], response.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
    }
}
