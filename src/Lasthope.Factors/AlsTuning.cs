using System.Diagnostics;
using System.Globalization;
using Lasthope.Evaluation;

namespace Lasthope.Factors;

/// <summary>How <see cref="AlsTuning.Tune"/> chooses the regularization, alpha and factors of a model.</summary>
/// <remarks>
/// The ranges are searched on a log scale, as Rendle, Krichene, Zhang and Koren recommend for both the
/// regularization and the weight of the unobserved cells ("Revisiting the Performance of iALS on Item Recommendation
/// Benchmarks", RecSys 2022, section 5): good values span decades, and they move with the size and density of the
/// data, because lambda competes with sums over every item (Y^T Y) and alpha with the number of unobserved cells. In
/// Hu, Koren and Volinsky's parameterization used here (c = 1 + alpha r, unobserved cells weight 1), their unobserved
/// weight alpha_0 is about 1 / (1 + alpha) and their lambda about ours / (1 + alpha). The default box, lambda in
/// [0.01, 10,000] and alpha in [0.5, 1,000], holds every value reported good on MovieLens-like ratings (lambda 30,
/// alpha 3), on msweb (lambda 1,000 and above with alpha near 100) and implicit's defaults. The factors are a third,
/// discrete axis (<see cref="FactorCandidates"/>): with the regularization tuned, more factors rarely hurt (Rendle et
/// al., section 5.3), but they cost time and on a small catalogue they add nothing.
/// </remarks>
public sealed record AlsTuningOptions
{
    /// <summary>
    /// The factor counts train-als searches when <c>--factors</c> is not given: 16, 32 and 64. Not 128: on msweb a
    /// 128-factor model trained 7-9 times as long as a 64-factor one for 0.1% more NDCG@10 (docs/models.md).
    /// </summary>
    public static IReadOnlyList<int> DefaultFactorCandidates { get; } = [16, 32, 64];

    /// <summary>Everything but the searched hyperparameters: factors (unless searched), iterations, CG steps, threads and the seed.</summary>
    public AlsOptions Base { get; init; } = new();

    /// <summary>The regularization range, searched on a log scale. Default [0.01, 10,000].</summary>
    public double MinRegularization { get; init; } = 0.01;

    /// <summary>Upper end of the regularization range.</summary>
    public double MaxRegularization { get; init; } = 10_000;

    /// <summary>The alpha range, searched on a log scale. Default [0.5, 1,000].</summary>
    public double MinAlpha { get; init; } = 0.5;

    /// <summary>Upper end of the alpha range.</summary>
    public double MaxAlpha { get; init; } = 1_000;

    /// <summary>Search only alpha, with this regularization.</summary>
    public float? FixedRegularization { get; init; }

    /// <summary>Search only the regularization, with this alpha.</summary>
    public float? FixedAlpha { get; init; }

    /// <summary>
    /// The factor counts to choose from, in increasing order (the pattern search steps between neighbours); null keeps
    /// <see cref="AlsOptions.Factors"/> of <see cref="Base"/>. Default null.
    /// </summary>
    public IReadOnlyList<int>? FactorCandidates { get; init; }

    /// <summary>Share of each user's items held out for validation (users with one item keep it). Default 0.2.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>At most this many validation users are scored (a seeded sample): scoring is brute force over the catalogue. Default 5,000.</summary>
    public int MaxValidationUsers { get; init; } = 5_000;

    /// <summary>The objective, one of <see cref="RecsMetrics"/>. Default NDCG.</summary>
    public string Metric { get; init; } = RecsMetrics.Ndcg;

    /// <summary>The objective's cut-off. Default 10.</summary>
    public int K { get; init; } = 10;

    /// <summary>Points of the first rung of successive halving. Default 27.</summary>
    public int Candidates { get; init; } = 27;

    /// <summary>Successive halving keeps the best 1 / Eta of each rung and gives them Eta times the iterations. Default 3.</summary>
    public int Eta { get; init; } = 3;

    /// <summary>Rounds of the pattern search that refines the best point at full training. Default 5.</summary>
    public int RefinementRounds { get; init; } = 5;

    /// <summary>
    /// Wall-time budget of the search. The search is deterministic for a seed unless the budget runs out, which
    /// the result reports (<see cref="AlsTuningResult.BudgetExhausted"/>). Default 60 s.
    /// </summary>
    public TimeSpan Budget { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The factor counts searched: <see cref="FactorCandidates"/>, or the base's alone.</summary>
    public IReadOnlyList<int> FactorChoices => FactorCandidates ?? [Base.Factors];

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Base);
        Base.Validate();
        if (!(MinRegularization > 0 && MaxRegularization >= MinRegularization && double.IsFinite(MaxRegularization)))
        {
            throw new ArgumentOutOfRangeException(nameof(MinRegularization), $"The regularization range [{MinRegularization}, {MaxRegularization}] must be positive and ordered.");
        }

        if (!(MinAlpha > 0 && MaxAlpha >= MinAlpha && double.IsFinite(MaxAlpha)))
        {
            throw new ArgumentOutOfRangeException(nameof(MinAlpha), $"The alpha range [{MinAlpha}, {MaxAlpha}] must be positive and ordered.");
        }

        if (FixedRegularization is { } fr && !(fr > 0 && float.IsFinite(fr)))
        {
            throw new ArgumentOutOfRangeException(nameof(FixedRegularization), fr, "A fixed regularization in a search must be positive (the search works on its logarithm).");
        }

        if (FixedAlpha is { } fa && !(fa > 0 && float.IsFinite(fa)))
        {
            throw new ArgumentOutOfRangeException(nameof(FixedAlpha), fa, "A fixed alpha must be positive.");
        }

        if (FactorCandidates is { } factors && (factors.Count == 0 || factors.Any(f => f is < 1 or > 4096) || factors.Zip(factors.Skip(1)).Any(p => p.First >= p.Second)))
        {
            throw new ArgumentOutOfRangeException(nameof(FactorCandidates), $"The factor candidates [{string.Join(", ", factors)}] must be increasing, each in 1..4096.");
        }

        if (!(ValidationFraction is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ValidationFraction), ValidationFraction, "The validation fraction must be in (0, 1).");
        }

        if (!RecsMetrics.All.Contains(Metric))
        {
            throw new ArgumentOutOfRangeException(nameof(Metric), Metric, $"The metric must be one of {string.Join(", ", RecsMetrics.All)}.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(MaxValidationUsers, 1, nameof(MaxValidationUsers));
        ArgumentOutOfRangeException.ThrowIfLessThan(K, 1, nameof(K));
        ArgumentOutOfRangeException.ThrowIfLessThan(Candidates, 1, nameof(Candidates));
        ArgumentOutOfRangeException.ThrowIfLessThan(Eta, 2, nameof(Eta));
        ArgumentOutOfRangeException.ThrowIfNegative(RefinementRounds, nameof(RefinementRounds));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Budget, TimeSpan.Zero, nameof(Budget));
    }

    /// <summary>The objective in words, for reports.</summary>
    public string Objective => string.Create(CultureInfo.InvariantCulture, $"{Metric}@{K} on a {ValidationFraction:P0} per-user validation holdout");
}

/// <summary>What <see cref="AlsTuning.Tune"/> (or <see cref="AlsTuning.TuneByGrid"/>) chose and how.</summary>
/// <param name="Chosen">The base options with the chosen regularization, alpha and factors: train the final model with them on all the data.</param>
/// <param name="Score">The objective of the chosen point on the validation split.</param>
/// <param name="Objective">What was maximised.</param>
/// <param name="Trials">Every trained point in evaluation order, with its iterations (successive halving trains short first).</param>
/// <param name="ValidationUsers">Users scored.</param>
/// <param name="Elapsed">Wall time of the search.</param>
/// <param name="BudgetExhausted">The search stopped at its time budget: the choice then depends on the machine's speed.</param>
public sealed record AlsTuningResult(AlsOptions Chosen, double Score, string Objective, IReadOnlyList<SearchTrial> Trials, int ValidationUsers, TimeSpan Elapsed, bool BudgetExhausted)
{
    /// <summary><c>search</c> (successive halving and the pattern search) or <c>grid</c> (every point of a log grid).</summary>
    public string Method { get; init; } = AlsTuning.SearchMethod;
}

/// <summary>
/// A seeded validation split of a training matrix: the training part (the same ids) and the held-out users, scored
/// as known users with their training items excluded. <see cref="AlsTuning"/> searches on it; a grid for comparison
/// uses the same split.
/// </summary>
public sealed class AlsValidationSplit
{
    private AlsValidationSplit(InteractionMatrix train, IReadOnlyList<EvaluationUser> users)
    {
        Train = train;
        Users = users;
    }

    /// <summary>The training part (all users and items keep their indices).</summary>
    public InteractionMatrix Train { get; }

    /// <summary>The validation users (a sample of at most the maximum), by user index.</summary>
    public IReadOnlyList<EvaluationUser> Users { get; }

    /// <summary>Holds out <paramref name="fraction"/> of each user's items (<see cref="Splits.PerUserHoldout"/>) and samples the users to score.</summary>
    public static AlsValidationSplit Create(InteractionMatrix data, double fraction, int maxUsers, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        var csr = data.ByUser;
        var n = csr.NonZeros;
        var users = new int[n];
        for (var u = 0; u < csr.RowCount; u++)
        {
            users.AsSpan(csr.RowStart[u], csr.RowLength(u)).Fill(u);
        }

        var items = csr.Indices;
        var weights = csr.Values;
        var isValidation = Splits.PerUserHoldout(users, items, fraction, seed);
        var keep = new bool[n];
        var kept = 0;
        for (var k = 0; k < n; k++)
        {
            keep[k] = !isValidation[k];
            kept += keep[k] ? 1 : 0;
        }

        int[] tu = new int[kept], ti = new int[kept];
        var tw = new float[kept];
        for (int k = 0, j = 0; k < n; k++)
        {
            if (keep[k])
            {
                (tu[j], ti[j], tw[j]) = (users[k], items[k], weights[k]);
                j++;
            }
        }

        var train = new InteractionMatrix(data.Users, data.Items, CsrMatrix.FromCoordinates(data.Users.Count, data.Items.Count, tu, ti, tw));
        var all = EvaluationUser.FromSplit(users, items, weights, isValidation);
        IReadOnlyList<EvaluationUser> sample = all;
        if (all.Count > maxUsers)
        {
            // A seeded sample, kept in user order.
            var random = new Random(seed);
            var order = Enumerable.Range(0, all.Count).ToArray();
            random.Shuffle(order);
            sample = [.. order.Take(maxUsers).Order().Select(i => all[i])];
        }

        return new AlsValidationSplit(train, sample);
    }

    /// <summary>The mean of <paramref name="metric"/>@<paramref name="k"/> of <paramref name="model"/> over the validation users.</summary>
    public double Score(AlsModel model, string metric, int k, int threads, CancellationToken cancellationToken = default) =>
        RecsEvaluation.Mean(Users, new AlsKnownUserRecommender(model), metric, k, new RecsEvaluationOptions { CatalogueSize = Train.Items.Count, Threads = threads }, cancellationToken);
}

/// <summary>
/// Chooses ALS's regularization, alpha and (optionally) factors for the data at hand: a search on a seeded validation
/// split, within a time budget. What <c>lasthope train-als</c> does when it is given neither regularization nor
/// alpha, and what <c>evaluate-recs --search</c> does.
/// </summary>
/// <remarks>
/// <para>
/// First successive halving (Jamieson and Talwalkar 2016, "Non-stochastic Best Arm Identification and Hyperparameter
/// Optimization", AISTATS) over <see cref="AlsTuningOptions.Candidates"/> points of a scrambled Halton sequence in the
/// log box (low-discrepancy, so no region is missed the way a handful of random draws can miss it): all points train
/// for iterations / Eta^2 (at least 2), the best 1 / Eta of them for iterations / Eta, the best 1 / Eta of those for
/// the full count. Then a pattern search (Kolda, Lewis and Torczon 2003, "Optimization by direct search", SIAM
/// Review 45(3)) from the best point at full training: the eight neighbours a step away along the log axes and the
/// diagonals, and the next factor count up and down; move to the best of them if it is better, else halve the step.
/// </para>
/// <para>
/// Every point is scored on the same held-out items of the same users, and training is deterministic for a seed, so
/// the whole search is too, unless the time budget runs out.
/// </para>
/// </remarks>
public static class AlsTuning
{
    /// <summary>The <see cref="AlsTuningResult.Method"/> of <see cref="Tune"/>.</summary>
    public const string SearchMethod = "search";

    /// <summary>The <see cref="AlsTuningResult.Method"/> of <see cref="TuneByGrid"/>.</summary>
    public const string GridMethod = "grid";

    /// <summary>Searches the regularization, alpha and factors for <paramref name="data"/>.</summary>
    /// <param name="data">The training data (the final model should be trained on all of it with the chosen options).</param>
    /// <param name="options">Ranges, objective, budget and the fixed hyperparameters.</param>
    /// <param name="progress">Receives every trial as it finishes.</param>
    /// <param name="cancellationToken">Stops the search (throws <see cref="OperationCanceledException"/>).</param>
    public static AlsTuningResult Tune(InteractionMatrix data, AlsTuningOptions options, IProgress<SearchTrial>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var split = AlsValidationSplit.Create(data, options.ValidationFraction, options.MaxValidationUsers, options.Base.Seed);
        var search = new Search(split, options, progress, clock, cancellationToken);
        search.Run();
        return Result(options, split, search, clock, SearchMethod);
    }

    /// <summary>
    /// Trains and scores every point of a log grid over the box of <paramref name="options"/> (<paramref name="regularizations"/>
    /// x <paramref name="alphas"/> x the factor choices; a fixed value is one point of its axis) at the full iteration
    /// count, on the same validation split <see cref="Tune"/> uses, within the same budget: the exhaustive reference a
    /// search is compared with (<c>train-als --grid</c>).
    /// </summary>
    public static AlsTuningResult TuneByGrid(InteractionMatrix data, AlsTuningOptions options, int regularizations, int alphas, IProgress<SearchTrial>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var split = AlsValidationSplit.Create(data, options.ValidationFraction, options.MaxValidationUsers, options.Base.Seed);
        var search = new Search(split, options, progress, clock, cancellationToken);
        search.RunGrid(GridPoints(options, regularizations, alphas));
        return Result(options, split, search, clock, GridMethod);
    }

    /// <summary>
    /// The points of <see cref="TuneByGrid"/>: <paramref name="regularizations"/> log-spaced regularizations (or the fixed
    /// one) x <paramref name="alphas"/> alphas (or the fixed one) x <see cref="AlsTuningOptions.FactorChoices"/>, the
    /// factors varying slowest.
    /// </summary>
    public static IReadOnlyList<(float Regularization, float Alpha, int Factors)> GridPoints(AlsTuningOptions options, int regularizations, int alphas)
    {
        ArgumentNullException.ThrowIfNull(options);
        var rs = options.FixedRegularization is { } fr ? [fr] : LogSpace(options.MinRegularization, options.MaxRegularization, regularizations);
        var alphaValues = options.FixedAlpha is { } fa ? [fa] : LogSpace(options.MinAlpha, options.MaxAlpha, alphas);
        return [.. from f in options.FactorChoices from r in rs from a in alphaValues select (r, a, f)];
    }

    /// <summary>
    /// Trains and scores every (regularization, alpha) point at the full iteration count on <paramref name="split"/>
    /// with the factors of <paramref name="baseOptions"/>.
    /// </summary>
    public static SearchResult Grid(AlsValidationSplit split, AlsOptions baseOptions, IEnumerable<(float Regularization, float Alpha)> points, string metric = RecsMetrics.Ndcg, int k = 10, IProgress<SearchTrial>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(baseOptions);
        ArgumentNullException.ThrowIfNull(points);
        var trials = new List<SearchTrial>();
        foreach (var (regularization, alpha) in points)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            var model = AlsTrainer.Train(split.Train, baseOptions with { Regularization = regularization, Alpha = alpha, ComputeLoss = false }, null, cancellationToken);
            var score = split.Score(model, metric, k, baseOptions.Threads, cancellationToken);
            var trial = new SearchTrial(trials.Count, Parameters(regularization, alpha, baseOptions.Factors, baseOptions.Iterations), score, clock.Elapsed);
            trials.Add(trial);
            progress?.Report(trial);
        }

        return new SearchResult(string.Create(CultureInfo.InvariantCulture, $"{metric}@{k} on the validation split"), trials);
    }

    /// <summary>Log-spaced values from <paramref name="min"/> to <paramref name="max"/> inclusive.</summary>
    public static float[] LogSpace(double min, double max, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (count == 1)
        {
            return [(float)min];
        }

        var a = Math.Log10(min);
        var b = Math.Log10(max);
        return [.. Enumerable.Range(0, count).Select(i => (float)Math.Pow(10, a + ((b - a) * i / (count - 1))))];
    }

    private static AlsTuningResult Result(AlsTuningOptions options, AlsValidationSplit split, Search search, Stopwatch clock, string method)
    {
        var best = search.Best ?? throw new InvalidOperationException("The search scored no point: the validation split holds no user with a held-out item.");
        var chosen = options.Base with { Regularization = best.Regularization, Alpha = best.Alpha, Factors = best.Factors };
        return new AlsTuningResult(chosen, best.Score, options.Objective, search.Trials, split.Users.Count, clock.Elapsed, search.BudgetExhausted) { Method = method };
    }

    private static Dictionary<string, double> Parameters(float regularization, float alpha, int factors, int iterations) => new(StringComparer.Ordinal)
    {
        ["regularization"] = regularization,
        ["alpha"] = alpha,
        ["factors"] = factors,
        ["iterations"] = iterations,
    };

    /// <summary>A scored point at full training.</summary>
    private sealed record Point(float Regularization, float Alpha, int Factors, double Score);

    /// <summary>A point of the search: regularization, alpha and factors.</summary>
    private readonly record struct Candidate(float Regularization, float Alpha, int Factors);

    private sealed class Search(AlsValidationSplit split, AlsTuningOptions options, IProgress<SearchTrial>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        /// <summary>
        /// The pattern's directions in (log regularization, log alpha, factor index): the axes, then the diagonals,
        /// since good (regularization, alpha) pairs lie along a diagonal ridge (a larger alpha wants a larger lambda)
        /// that axis steps alone climb slowly; then the next factor count up and down.
        /// </summary>
        private static readonly (double R, double A, int F)[] Directions = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (1, 1, 0), (-1, -1, 0), (1, -1, 0), (-1, 1, 0), (0, 0, 1), (0, 0, -1)];

        private readonly Dictionary<Candidate, double> _full = [];
        private readonly IReadOnlyList<int> _factors = options.FactorChoices;

        public List<SearchTrial> Trials { get; } = [];

        public bool BudgetExhausted { get; private set; }

        /// <summary>The best point trained for the full iteration count.</summary>
        public Point? Best { get; private set; }

        private AlsOptions Base => options.Base with { ComputeLoss = false };

        public void Run()
        {
            var (lo, hi) = Box();
            var full = Base.Iterations;
            var eta = options.Eta;
            var rungs = new SortedSet<int> { Math.Max(Math.Min(2, full), full / (eta * eta)), Math.Max(Math.Min(2, full), full / eta), full };

            // Successive halving: every candidate trains for the first rung's iterations, the best 1 / Eta of them for
            // the next rung's, and so on. Each rung trains from the seed's initial factors again (the same as
            // continuing, up to the extra iterations), so no more than one model is held at a time.
            var alive = Halton(options.Candidates, lo, hi).Select(c => (Point: c, Score: double.NaN)).ToList();
            (Candidate Point, double Score)? bestShort = null;
            foreach (var iterations in rungs)
            {
                for (var i = 0; i < alive.Count; i++)
                {
                    if (OutOfTime())
                    {
                        alive.RemoveRange(i, alive.Count - i);
                        break;
                    }

                    alive[i] = (alive[i].Point, Train(alive[i].Point, iterations));
                }

                alive = [.. alive.Where(a => !double.IsNaN(a.Score)).OrderByDescending(a => a.Score)];
                if (alive.Count == 0)
                {
                    break;
                }

                bestShort = alive[0];
                alive = [.. alive.Take(Math.Max(1, alive.Count / eta))];
            }

            if (Best is null && bestShort is { } b)
            {
                // The budget stopped the halving before any point reached full training: train the best of the last
                // rung fully anyway (one training past the budget), so the score reported is the chosen model's.
                Train(b.Point, full);
                return;
            }

            Refine(lo, hi);
        }

        /// <summary>Every point at full training, in order, until the budget runs out (the first is always trained).</summary>
        public void RunGrid(IEnumerable<(float Regularization, float Alpha, int Factors)> points)
        {
            foreach (var (r, a, f) in points)
            {
                if (OutOfTime())
                {
                    return;
                }

                Train(new Candidate(r, a, f), Base.Iterations);
            }
        }

        /// <summary>Pattern search in log10 space (and along the factor choices) around the best point at full training.</summary>
        private void Refine((double R, double A) lo, (double R, double A) hi)
        {
            var step = (R: (hi.R - lo.R) / 8, A: (hi.A - lo.A) / 8);
            for (var round = 0; round < options.RefinementRounds && !OutOfTime(); round++)
            {
                var center = Best!;
                var (r, a) = (Math.Log10(center.Regularization), Math.Log10(center.Alpha));
                var f = IndexOf(center.Factors);
                foreach (var (sr, sa, sf) in Directions)
                {
                    var (dr, da) = (sr * step.R, sa * step.A);
                    var nf = f + sf;
                    if ((dr == 0 && da == 0 && sf == 0) || nf < 0 || nf >= _factors.Count || OutOfTime())
                    {
                        continue;
                    }

                    var candidate = new Candidate(
                        (float)Math.Pow(10, Math.Clamp(r + dr, lo.R, hi.R)),
                        (float)Math.Pow(10, Math.Clamp(a + da, lo.A, hi.A)),
                        _factors[nf]);
                    if (!_full.ContainsKey(candidate))
                    {
                        Train(candidate, Base.Iterations);
                    }
                }

                if (ReferenceEquals(Best, center))
                {
                    step = (step.R / 2, step.A / 2);
                }
            }
        }

        private int IndexOf(int factors)
        {
            for (var i = 0; i < _factors.Count; i++)
            {
                if (_factors[i] == factors)
                {
                    return i;
                }
            }

            return 0;
        }

        private double Train(Candidate c, int iterations)
        {
            var trialClock = Stopwatch.StartNew();
            var model = AlsTrainer.Train(split.Train, Base with { Regularization = c.Regularization, Alpha = c.Alpha, Factors = c.Factors, Iterations = iterations }, null, cancellationToken);
            var score = split.Score(model, options.Metric, options.K, options.Base.Threads, cancellationToken);
            var trial = new SearchTrial(Trials.Count, Parameters(c.Regularization, c.Alpha, c.Factors, iterations), score, trialClock.Elapsed);
            Trials.Add(trial);
            progress?.Report(trial);
            if (iterations == options.Base.Iterations && !double.IsNaN(score))
            {
                _full[c] = score;
                if (Best is null || score > Best.Score)
                {
                    Best = new Point(c.Regularization, c.Alpha, c.Factors, score);
                }
            }

            return score;
        }

        /// <summary>True once the budget is spent; the first point is always trained, so there is a result.</summary>
        private bool OutOfTime()
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Trials.Count > 0 && clock.Elapsed > options.Budget)
            {
                BudgetExhausted = true;
            }

            return BudgetExhausted;
        }

        /// <summary>The search box in log10 units; a fixed hyperparameter collapses its axis.</summary>
        private ((double R, double A) Lo, (double R, double A) Hi) Box()
        {
            var r = options.FixedRegularization is { } fr ? (Math.Log10(fr), Math.Log10(fr)) : (Math.Log10(options.MinRegularization), Math.Log10(options.MaxRegularization));
            var a = options.FixedAlpha is { } fa ? (Math.Log10(fa), Math.Log10(fa)) : (Math.Log10(options.MinAlpha), Math.Log10(options.MaxAlpha));
            return ((r.Item1, a.Item1), (r.Item2, a.Item2));
        }

        /// <summary>
        /// <paramref name="count"/> points of the Halton sequence in bases 2, 3 and 5 (Halton 1960), shifted by a
        /// seeded random offset modulo 1 (Cranley and Patterson 1976), mapped onto the log box and, by the third
        /// coordinate, onto the factor choices; distinct by construction except on a collapsed axis, where repeats are
        /// dropped.
        /// </summary>
        private List<Candidate> Halton(int count, (double R, double A) lo, (double R, double A) hi)
        {
            var random = new Random(options.Base.Seed);
            var shift = (R: random.NextDouble(), A: random.NextDouble(), F: random.NextDouble());
            var points = new List<Candidate>();
            var seen = new HashSet<Candidate>();
            for (var i = 1; i <= count; i++)
            {
                var u = Frac(RadicalInverse(i, 2) + shift.R);
                var v = Frac(RadicalInverse(i, 3) + shift.A);
                var w = Frac(RadicalInverse(i, 5) + shift.F);
                var point = new Candidate(
                    (float)Math.Pow(10, lo.R + (u * (hi.R - lo.R))),
                    (float)Math.Pow(10, lo.A + (v * (hi.A - lo.A))),
                    _factors[Math.Min(_factors.Count - 1, (int)(w * _factors.Count))]);
                if (seen.Add(point))
                {
                    points.Add(point);
                }
            }

            return points;
        }

        private static double Frac(double x) => x - Math.Floor(x);

        private static double RadicalInverse(int i, int b)
        {
            var result = 0.0;
            var f = 1.0 / b;
            for (; i > 0; i /= b)
            {
                result += f * (i % b);
                f /= b;
            }

            return result;
        }
    }
}
