using Lasthope.Core.Events;

namespace Lasthope.Server.Ranking;

/// <summary>
/// A served request: the ranking as logged, with the whole served-path contract (servedBy, reason, versions, depth,
/// budget, experiment, timings, notes), and what the heuristic met. The API maps it to its response; nothing here
/// knows HTTP.
/// </summary>
/// <param name="Ranking">The served list and its served path, exactly as the impression log keeps it.</param>
/// <param name="UnknownItems">Candidates that had no data at all and were scored from the prior.</param>
public sealed record RankResult(RankingLog Ranking, int UnknownItems);
