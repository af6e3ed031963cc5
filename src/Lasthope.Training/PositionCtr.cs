namespace Lasthope.Training;

/// <summary>
/// What the off-policy estimators share: the logged clicks of the impressions they read, and the doubly robust
/// estimates' reward model: the logged CTR at each position, cross-fitted (Chernozhukov et al.
/// 2018): an impression's prediction comes from the other fold's impressions, so that its own click does not enter
/// it. A position the other fold never showed gets that fold's overall CTR. Crude (it knows no item), but the
/// correction term keeps DR unbiased whatever the model, and a model that tracks the reward lowers its variance.
/// </summary>
internal static class PositionCtr
{
    /// <summary>
    /// Whether each logged impression (its index in <paramref name="index"/>, by request and item) was clicked: the
    /// events since <paramref name="since"/> that name a request, read after the rankings because a click can be stored
    /// before its ranking.
    /// </summary>
    public static async Task<bool[]> ClicksAsync(Core.Storage.IEventStore store, DateTimeOffset since, Dictionary<(string Request, string Item), int> index, int impressions, CancellationToken cancellationToken)
    {
        var clicks = new bool[impressions];
        await foreach (var e in store.ReadEventsAsync(since, cancellationToken))
        {
            if (e is { RequestId: { } r, Weight: > 0 } && index.TryGetValue((r, e.ItemId), out var at))
            {
                clicks[at] = true;
            }
        }

        return clicks;
    }

    /// <summary>Which of the two cross-fitting folds a request's impressions belong to (a hash of its id, stable).</summary>
    public static int Fold(string requestId) => (int)(System.IO.Hashing.XxHash3.HashToUInt64(System.Text.Encoding.UTF8.GetBytes(requestId)) & 1);

    /// <summary>Each impression's predicted click probability from the other fold.</summary>
    /// <param name="impressions">Each impression's fold (0 or 1) and position.</param>
    /// <param name="clicks">Whether each was clicked.</param>
    public static double[] CrossFitted(IReadOnlyList<(int Fold, int Position)> impressions, bool[] clicks)
    {
        var shown = new Dictionary<(int Fold, int Position), (long Impressions, long Clicks)>();
        var total = new (long Impressions, long Clicks)[2];
        for (var i = 0; i < impressions.Count; i++)
        {
            var key = impressions[i];
            var (n, c) = shown.GetValueOrDefault(key);
            var click = clicks[i] ? 1 : 0;
            shown[key] = (n + 1, c + click);
            total[key.Fold] = (total[key.Fold].Impressions + 1, total[key.Fold].Clicks + click);
        }

        var predicted = new double[impressions.Count];
        for (var i = 0; i < predicted.Length; i++)
        {
            var other = 1 - impressions[i].Fold;
            predicted[i] = shown.TryGetValue((other, impressions[i].Position), out var cell) && cell.Impressions > 0
                ? (double)cell.Clicks / cell.Impressions
                : total[other].Impressions > 0 ? (double)total[other].Clicks / total[other].Impressions : 0;
        }

        return predicted;
    }
}
