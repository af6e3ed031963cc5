using System.Diagnostics;

namespace Lasthope.Evaluation;

/// <summary>A grid of named numeric hyperparameters (factors, regularization, alpha, iterations, ...).</summary>
public sealed class SearchSpace
{
    private readonly List<(string Name, double[] Values)> _dimensions = [];

    /// <summary>Adds a dimension with its candidate values.</summary>
    public SearchSpace Add(string name, params double[] values)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length == 0)
        {
            throw new ArgumentException($"Dimension '{name}' has no values.", nameof(values));
        }

        if (_dimensions.Any(d => d.Name == name))
        {
            throw new ArgumentException($"Dimension '{name}' is already present.", nameof(name));
        }

        _dimensions.Add((name, values.Distinct().ToArray()));
        return this;
    }

    /// <summary>The dimension names, in order.</summary>
    public IReadOnlyList<string> Names => _dimensions.Select(d => d.Name).ToArray();

    /// <summary>Points in the full grid.</summary>
    public long GridSize => _dimensions.Aggregate(1L, (n, d) => n * d.Values.Length);

    /// <summary>Every point of the grid, the last dimension varying fastest.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Grid()
    {
        if (GridSize > 1_000_000)
        {
            throw new InvalidOperationException($"The grid has {GridSize} points; sample it instead.");
        }

        var result = new List<IReadOnlyDictionary<string, double>>();
        var point = new int[_dimensions.Count];
        for (var n = 0L; n < GridSize; n++)
        {
            var remainder = n;
            for (var d = _dimensions.Count - 1; d >= 0; d--)
            {
                point[d] = (int)(remainder % _dimensions[d].Values.Length);
                remainder /= _dimensions[d].Values.Length;
            }

            result.Add(At(point));
        }

        return result;
    }

    /// <summary>
    /// Random search (Bergstra and Bengio 2012): <paramref name="trials"/> distinct grid points drawn uniformly with
    /// the seed, in draw order; the whole grid, in grid order, when it has no more points than that.
    /// </summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Sample(int trials, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);
        if (trials >= GridSize)
        {
            return Grid();
        }

        var random = new Random(seed);
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<IReadOnlyDictionary<string, double>>();
        var point = new int[_dimensions.Count];
        while (result.Count < trials)
        {
            for (var d = 0; d < _dimensions.Count; d++)
            {
                point[d] = random.Next(_dimensions[d].Values.Length);
            }

            if (chosen.Add(string.Join(',', point)))
            {
                result.Add(At(point));
            }
        }

        return result;
    }

    private Dictionary<string, double> At(int[] point)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var d = 0; d < _dimensions.Count; d++)
        {
            values[_dimensions[d].Name] = _dimensions[d].Values[point[d]];
        }

        return values;
    }
}

/// <summary>One evaluated point of a search.</summary>
/// <param name="Index">0-based order of evaluation.</param>
/// <param name="Parameters">The point.</param>
/// <param name="Score">The objective (higher is better).</param>
/// <param name="Elapsed">Time to train and score.</param>
public sealed record SearchTrial(int Index, IReadOnlyDictionary<string, double> Parameters, double Score, TimeSpan Elapsed);

/// <summary>Every trial of a search and the best one.</summary>
/// <param name="Objective">What was maximised, for example "ndcg@10 on validation".</param>
/// <param name="Trials">In evaluation order.</param>
public sealed record SearchResult(string Objective, IReadOnlyList<SearchTrial> Trials)
{
    /// <summary>The trial with the highest score (the earliest among equals; NaN scores never win).</summary>
    public SearchTrial Best => Trials.Where(t => !double.IsNaN(t.Score)).MaxBy(t => t.Score)
        ?? throw new InvalidOperationException("No trial produced a score.");
}

/// <summary>Runs an objective over candidate hyperparameters and keeps the best.</summary>
public static class HyperparameterSearch
{
    /// <summary>Evaluates every candidate in order; each call of <paramref name="objective"/> trains and scores one.</summary>
    /// <param name="candidates">Points to try (from <see cref="SearchSpace.Sample"/> or <see cref="SearchSpace.Grid"/>).</param>
    /// <param name="objective">Trains on the training part and returns the validation score (higher is better).</param>
    /// <param name="objectiveName">Describes the objective in the result.</param>
    /// <param name="progress">Receives each finished trial.</param>
    /// <param name="cancellationToken">Checked between trials and passed to the objective.</param>
    public static SearchResult Run(
        IReadOnlyList<IReadOnlyDictionary<string, double>> candidates, Func<IReadOnlyDictionary<string, double>, CancellationToken, double> objective,
        string objectiveName, IProgress<SearchTrial>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(objective);
        if (candidates.Count == 0)
        {
            throw new ArgumentException("No candidates to search.", nameof(candidates));
        }

        var trials = new List<SearchTrial>(candidates.Count);
        foreach (var candidate in candidates)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            var score = objective(candidate, cancellationToken);
            var trial = new SearchTrial(trials.Count, candidate, score, clock.Elapsed);
            trials.Add(trial);
            progress?.Report(trial);
        }

        return new SearchResult(objectiveName, trials);
    }
}
