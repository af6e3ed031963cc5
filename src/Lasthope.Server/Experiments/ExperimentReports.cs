using Lasthope.Core.Events;
using Lasthope.Core.Storage;
using Lasthope.Server.Configuration;

namespace Lasthope.Server.Experiments;

/// <summary>
/// Reads an experiment's readout from the store: the configured experiment gives the arms and their shares; a pass
/// over the log since a time keeps that experiment's rankings (without their feature rows), then a pass over the
/// events alone keeps those that name them. Memory grows with the experiment's rankings in the window, at most
/// <see cref="MaxRankings"/>.
/// </summary>
public sealed class ExperimentReports(IEventStore store, ServingOptions serving)
{
    /// <summary>The most rankings one readout holds; a longer window is refused with a message, not read partly.</summary>
    public const int MaxRankings = 2_000_000;

    /// <summary>The configured experiment with this id, or null.</summary>
    public ExperimentOptions? Find(string id) => serving.Experiments.FirstOrDefault(e => e.Id == id);

    /// <summary>The readout of the configured experiment <paramref name="id"/> over the log since <paramref name="since"/>; null when no experiment has that id.</summary>
    /// <exception cref="ExperimentWindowTooLargeException">The window holds more than <see cref="MaxRankings"/> rankings of the experiment.</exception>
    public async Task<ExperimentReport?> ReadAsync(string id, DateTimeOffset since, CancellationToken cancellationToken)
    {
        if (Find(id) is not { } experiment)
        {
            return null;
        }

        // Two passes: the impression log is written behind the request, so a click can be stored before its ranking.
        var rankings = new List<RankingLog>();
        var requests = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var entry in store.ReadLogAsync(since, cancellationToken))
        {
            if (entry.Ranking is { Experiment.ExperimentId: var e } r && e == id)
            {
                if (rankings.Count == MaxRankings)
                {
                    throw new ExperimentWindowTooLargeException($"Experiment '{id}' has more than {MaxRankings:N0} rankings since {since:O}; read a shorter window.");
                }

                rankings.Add(r with { Features = null, TimingsMs = null, Notes = null });
                requests.Add(r.RequestId);
            }
        }

        var events = new List<InteractionEvent>();
        await foreach (var click in store.ReadEventsAsync(since, cancellationToken))
        {
            if (click.RequestId is { } request && requests.Contains(request))
            {
                events.Add(click);
            }
        }

        var shares = experiment.Arms.ToDictionary(a => a.Name, a => a.Weight, StringComparer.Ordinal);
        return ExperimentReadout.Read(id, rankings, events, shares);
    }
}

/// <summary>An experiment's window holds more rankings than one readout may hold.</summary>
public sealed class ExperimentWindowTooLargeException(string message) : Exception(message);
