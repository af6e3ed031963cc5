namespace Lasthope.Evaluation;

/// <summary>Metric names as they appear in reports and JSON.</summary>
public static class RecsMetrics
{
    public const string Precision = "precision";
    public const string Recall = "recall";
    public const string Ndcg = "ndcg";
    public const string Map = "map";
    public const string Coverage = "coverage";

    /// <summary>Every metric, in report order.</summary>
    public static IReadOnlyList<string> All { get; } = [Precision, Recall, Ndcg, Map, Coverage];
}

/// <summary>How <see cref="RecsEvaluation"/> measures.</summary>
public sealed record RecsEvaluationOptions
{
    /// <summary>Cut-offs; every metric is reported at each.</summary>
    public IReadOnlyList<int> Ks { get; init; } = [1, 3, 5, 10, 20];

    /// <summary>Denominator of precision@k (default k, the standard one).</summary>
    public PrecisionDenominator Precision { get; init; } = PrecisionDenominator.K;

    /// <summary>Items a recommender could return (the training catalogue), the denominator of coverage.</summary>
    public required int CatalogueSize { get; init; }

    /// <summary>Confidence level of the intervals.</summary>
    public double Level { get; init; } = 0.95;

    /// <summary>Bootstrap resamples of the users.</summary>
    public int Resamples { get; init; } = 1000;

    /// <summary>Seed of the bootstrap.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Threads for recommending and resampling.</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;

    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Ks);
        if (Ks.Count == 0 || Ks.Any(k => k < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Ks), "Give at least one cut-off, each at least 1.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(CatalogueSize, 1, nameof(CatalogueSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(Resamples, 1, nameof(Resamples));
        ArgumentOutOfRangeException.ThrowIfLessThan(Threads, 1, nameof(Threads));
        if (!(Level is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Level), Level, "The level must be in (0, 1).");
        }
    }
}

/// <summary>One metric at one cut-off for the model and the baseline, each with its bootstrap interval.</summary>
/// <param name="Metric">One of <see cref="RecsMetrics"/>.</param>
/// <param name="K">Cut-off.</param>
/// <param name="Model">The model's value and interval.</param>
/// <param name="Baseline">The baseline's value and interval.</param>
/// <param name="Difference">Model minus baseline, paired over the same resampled users.</param>
public sealed record MetricComparison(string Metric, int K, Interval Model, Interval Baseline, Interval Difference)
{
    /// <summary>The model's interval lies entirely above the baseline's: a margin the intervals show.</summary>
    public bool ModelAboveBaseline => Model.IsAbove(Baseline);
}

/// <summary>The outcome of <see cref="RecsEvaluation.Compare"/>.</summary>
public sealed record RecsEvaluationReport(
    string ModelName, string BaselineName, int Users, int CatalogueSize, PrecisionDenominator Precision,
    double Level, int Resamples, IReadOnlyList<MetricComparison> Metrics)
{
    /// <summary>The comparison of <paramref name="metric"/> at <paramref name="k"/>.</summary>
    /// <exception cref="KeyNotFoundException">Not measured.</exception>
    public MetricComparison Get(string metric, int k) =>
        Metrics.FirstOrDefault(m => m.Metric == metric && m.K == k) ?? throw new KeyNotFoundException($"No {metric}@{k} in this report.");
}

/// <summary>
/// Runs a top-k evaluation: asks a model and a baseline for the top max(k) items of every evaluation user, scores
/// each list with <see cref="TopKMetrics"/>, and gives every metric a percentile-bootstrap interval over users
/// (Efron and Tibshirani 1993), side by side with the baseline and with the paired difference.
/// </summary>
public static class RecsEvaluation
{
    /// <summary>Compares <paramref name="model"/> with <paramref name="baseline"/> on <paramref name="users"/>.</summary>
    /// <param name="users">Users with their known and relevant items (see <see cref="EvaluationUser.FromSplit"/>).</param>
    /// <param name="model">The recommender under test.</param>
    /// <param name="baseline">The baseline (popularity).</param>
    /// <param name="options">Cut-offs, precision denominator, catalogue size, bootstrap settings.</param>
    /// <param name="progress">Receives the share of users done, in [0, 1].</param>
    /// <param name="cancellationToken">Stops between chunks of users.</param>
    public static RecsEvaluationReport Compare(
        IReadOnlyList<EvaluationUser> users, ITopKRecommender model, ITopKRecommender baseline, RecsEvaluationOptions options,
        IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var maxK = options.Ks.Max();
        var modelLists = Lists.Build(users, model, maxK, options.Threads, progress is null ? null : new Scaled(progress, 0, 0.5), cancellationToken);
        var baselineLists = Lists.Build(users, baseline, maxK, options.Threads, progress is null ? null : new Scaled(progress, 0.5, 0.5), cancellationToken);

        var jobs = new List<(string Metric, int K)>();
        foreach (var k in options.Ks)
        {
            foreach (var metric in RecsMetrics.All)
            {
                if (metric != RecsMetrics.Coverage)
                {
                    jobs.Add((metric, k));
                }
            }
        }

        var results = new MetricComparison[jobs.Count];
        Parallel.For(0, jobs.Count, new ParallelOptions { MaxDegreeOfParallelism = options.Threads, CancellationToken = cancellationToken }, j =>
        {
            var (metric, k) = jobs[j];
            var a = PerUser(users, modelLists, metric, k, options.Precision);
            var b = PerUser(users, baselineLists, metric, k, options.Precision);
            results[j] = new MetricComparison(
                metric, k,
                Bootstrap.MeanInterval(a, options.Level, options.Resamples, options.Seed),
                Bootstrap.MeanInterval(b, options.Level, options.Resamples, options.Seed),
                Bootstrap.MeanDifferenceInterval(a, b, options.Level, options.Resamples, options.Seed));
        });

        var coverage = CoverageIntervals(modelLists, baselineLists, options, cancellationToken);
        var ordered = new List<MetricComparison>();
        foreach (var metric in RecsMetrics.All)
        {
            foreach (var k in options.Ks)
            {
                ordered.Add(metric == RecsMetrics.Coverage ? coverage[k] : results.First(r => r.Metric == metric && r.K == k));
            }
        }

        return new RecsEvaluationReport(model.Name, baseline.Name, users.Count, options.CatalogueSize, options.Precision, options.Level, options.Resamples, ordered);
    }

    /// <summary>
    /// The mean of one metric over <paramref name="users"/>, without intervals: the objective of a hyperparameter
    /// search (coverage is the catalogue share, not a mean).
    /// </summary>
    public static double Mean(IReadOnlyList<EvaluationUser> users, ITopKRecommender recommender, string metric, int k, RecsEvaluationOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(options);
        if (!RecsMetrics.All.Contains(metric))
        {
            throw new ArgumentException($"Unknown metric '{metric}'; one of {string.Join(", ", RecsMetrics.All)}.", nameof(metric));
        }

        var lists = Lists.Build(users, recommender, k, options.Threads, null, cancellationToken);
        if (metric == RecsMetrics.Coverage)
        {
            return TopKMetrics.Coverage(Enumerable.Range(0, users.Count).Select(u => lists.Of(u).ToArray()), k, options.CatalogueSize);
        }

        var values = PerUser(users, lists, metric, k, options.Precision);
        return values.Length == 0 ? double.NaN : values.Average();
    }

    private static double[] PerUser(IReadOnlyList<EvaluationUser> users, Lists lists, string metric, int k, PrecisionDenominator precision)
    {
        var values = new double[users.Count];
        for (var u = 0; u < users.Count; u++)
        {
            var ranked = lists.Of(u);
            var relevant = users[u].Relevant;
            values[u] = metric switch
            {
                RecsMetrics.Precision => TopKMetrics.Precision(ranked, relevant, k, precision),
                RecsMetrics.Recall => TopKMetrics.Recall(ranked, relevant, k),
                RecsMetrics.Ndcg => TopKMetrics.Ndcg(ranked, relevant, k),
                RecsMetrics.Map => TopKMetrics.AveragePrecision(ranked, relevant, k),
                _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, null),
            };
        }

        return values;
    }

    /// <summary>
    /// Coverage@k for every k with percentile intervals from resampling users: per resample, each item's best rank
    /// over the sampled users' lists, then coverage@k = items whose best rank is under k. Resample r draws from its own
    /// seeded generator, so the result does not depend on the thread count.
    /// </summary>
    private static Dictionary<int, MetricComparison> CoverageIntervals(Lists model, Lists baseline, RecsEvaluationOptions options, CancellationToken cancellationToken)
    {
        var ks = options.Ks.Distinct().Order().ToArray();
        var n = model.Count;
        var catalogue = options.CatalogueSize;
        var samples = new double[3][][];
        for (var s = 0; s < 3; s++)
        {
            samples[s] = new double[ks.Length][];
            for (var j = 0; j < ks.Length; j++)
            {
                samples[s][j] = new double[options.Resamples];
            }
        }

        var full = new double[2][];
        full[0] = CoverageAt(model, Enumerable.Range(0, n).ToArray(), ks, catalogue, new int[Math.Max(catalogue, model.MaxItem + 1)], new int[Math.Max(catalogue, model.MaxItem + 1)], 1);
        full[1] = CoverageAt(baseline, Enumerable.Range(0, n).ToArray(), ks, catalogue, new int[Math.Max(catalogue, baseline.MaxItem + 1)], new int[Math.Max(catalogue, baseline.MaxItem + 1)], 1);
        Parallel.For(
            0, options.Resamples, new ParallelOptions { MaxDegreeOfParallelism = options.Threads, CancellationToken = cancellationToken },
            () => (Stamp: new int[Math.Max(catalogue, Math.Max(model.MaxItem, baseline.MaxItem) + 1)], Best: new int[Math.Max(catalogue, Math.Max(model.MaxItem, baseline.MaxItem) + 1)], Sample: new int[n]),
            (r, _, scratch) =>
            {
                var random = new Random(Splits.UserSeed(options.Seed, r));
                for (var i = 0; i < n; i++)
                {
                    scratch.Sample[i] = random.Next(n);
                }

                var a = CoverageAt(model, scratch.Sample, ks, catalogue, scratch.Stamp, scratch.Best, (2 * r) + 2);
                var b = CoverageAt(baseline, scratch.Sample, ks, catalogue, scratch.Stamp, scratch.Best, (2 * r) + 3);
                for (var j = 0; j < ks.Length; j++)
                {
                    samples[0][j][r] = a[j];
                    samples[1][j][r] = b[j];
                    samples[2][j][r] = a[j] - b[j];
                }

                return scratch;
            },
            _ => { });

        var result = new Dictionary<int, MetricComparison>();
        for (var j = 0; j < ks.Length; j++)
        {
            result[ks[j]] = new MetricComparison(
                RecsMetrics.Coverage, ks[j],
                Percentile(full[0][j], samples[0][j], options.Level),
                Percentile(full[1][j], samples[1][j], options.Level),
                Percentile(full[0][j] - full[1][j], samples[2][j], options.Level));
        }

        return result;
    }

    private static double[] CoverageAt(Lists lists, int[] sample, int[] ks, int catalogue, int[] stamp, int[] best, int mark)
    {
        var histogram = new int[lists.MaxK + 1];
        foreach (var u in sample)
        {
            var list = lists.Of(u);
            for (var pos = 0; pos < list.Length; pos++)
            {
                var item = list[pos];
                if (stamp[item] != mark)
                {
                    stamp[item] = mark;
                    best[item] = pos;
                    histogram[pos]++;
                }
                else if (pos < best[item])
                {
                    histogram[best[item]]--;
                    best[item] = pos;
                    histogram[pos]++;
                }
            }
        }

        var result = new double[ks.Length];
        var cumulative = 0;
        var pos2 = 0;
        for (var j = 0; j < ks.Length; j++)
        {
            for (; pos2 < Math.Min(ks[j], histogram.Length); pos2++)
            {
                cumulative += histogram[pos2];
            }

            result[j] = (double)cumulative / catalogue;
        }

        return result;
    }

    private static Interval Percentile(double estimate, double[] samples, double level)
    {
        Array.Sort(samples);
        var alpha = (1 - level) / 2;
        return new Interval(estimate, Quantile(samples, alpha), Quantile(samples, 1 - alpha), level);
    }

    /// <summary>Type 7 quantile, as <see cref="Bootstrap"/>.</summary>
    private static double Quantile(double[] sorted, double p)
    {
        var h = (sorted.Length - 1) * p;
        var lo = (int)Math.Floor(h);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }

    /// <summary>Every user's list, in one flat array.</summary>
    private sealed class Lists
    {
        private readonly int[] _items;
        private readonly int[] _counts;

        private Lists(int[] items, int[] counts, int maxK, int maxItem)
        {
            _items = items;
            _counts = counts;
            MaxK = maxK;
            MaxItem = maxItem;
        }

        public int Count => _counts.Length;

        public int MaxK { get; }

        public int MaxItem { get; }

        public ReadOnlySpan<int> Of(int user) => _items.AsSpan(user * MaxK, _counts[user]);

        public static Lists Build(IReadOnlyList<EvaluationUser> users, ITopKRecommender recommender, int maxK, int threads, IProgress<double>? progress, CancellationToken cancellationToken)
        {
            var items = new int[users.Count * maxK];
            var counts = new int[users.Count];
            var done = 0;
            const int Chunk = 256;
            var chunks = (users.Count + Chunk - 1) / Chunk;
            Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken }, c =>
            {
                var end = Math.Min(users.Count, (c + 1) * Chunk);
                for (var u = c * Chunk; u < end; u++)
                {
                    var n = recommender.Recommend(users[u], items.AsSpan(u * maxK, maxK));
                    if (n < 0 || n > maxK)
                    {
                        throw new InvalidOperationException($"{recommender.Name} wrote {n} items for a list of {maxK}.");
                    }

                    counts[u] = n;
                }

                progress?.Report((double)Interlocked.Add(ref done, end - (c * Chunk)) / Math.Max(1, users.Count));
            });

            var maxItem = 0;
            for (var u = 0; u < users.Count; u++)
            {
                foreach (var i in items.AsSpan(u * maxK, counts[u]))
                {
                    if (i < 0)
                    {
                        throw new InvalidOperationException($"{recommender.Name} returned a negative item index.");
                    }

                    maxItem = Math.Max(maxItem, i);
                }
            }

            return new Lists(items, counts, maxK, maxItem);
        }
    }

    private sealed class Scaled(IProgress<double> inner, double offset, double scale) : IProgress<double>
    {
        public void Report(double value) => inner.Report(offset + (scale * value));
    }
}
