using System.Diagnostics;
using System.Globalization;
using Lasthope.Server.Models;
using Lasthope.Trees;

namespace Lasthope.Server.Predict;

/// <summary>One input value of a prediction request: a number, a category's name, or missing.</summary>
public readonly record struct FeatureValue(double Number, string? Text)
{
    public static FeatureValue Missing { get; } = new(double.NaN, null);

    public static FeatureValue Of(double number) => new(number, null);

    public static FeatureValue Of(string text) => new(double.NaN, text);

    public bool IsMissing => Text is null && double.IsNaN(Number);

    public override string ToString() => Text ?? (double.IsNaN(Number) ? "missing" : Number.ToString("G6", CultureInfo.InvariantCulture));
}

/// <summary>Which scorer answered a row: the model, or the predictor's fallback.</summary>
public enum PredictionSource
{
    Model,
    Fallback,
}

/// <summary>One reason: a feature's value and its signed contribution to the raw score, in words.</summary>
public sealed record PredictionReason(string Feature, string Value, double Contribution, string Phrase);

/// <summary>The smallest change of one feature that would flip the decision.</summary>
/// <param name="Feature">The feature changed.</param>
/// <param name="From">Its value now.</param>
/// <param name="To">The value that flips the decision (the nearest one for a number).</param>
/// <param name="Decision">The decision it would give.</param>
/// <param name="Score">The score it would give.</param>
public sealed record Counterfactual(string Feature, string From, string To, string Decision, double Score);

/// <summary>One row's prediction.</summary>
/// <param name="Score">Binary: P(positive); regression: the value; multiclass: the probability of <see cref="Decision"/>.</param>
/// <param name="Decision">Binary: the positive or negative decision's name; multiclass: the class; regression: null.</param>
/// <param name="Probabilities">Multiclass: every class's probability, in class order; else null.</param>
/// <param name="RawScore">The margin the reasons add up to (class <see cref="ExplainedClass"/>'s for multiclass).</param>
/// <param name="BaseValue">The expected raw score the contributions start from.</param>
/// <param name="Reasons">The top features by |contribution|, largest first; empty when none were asked for.</param>
public sealed record Prediction(
    PredictionSource Source,
    double Score,
    string? Decision,
    IReadOnlyList<double>? Probabilities,
    double RawScore,
    double BaseValue,
    int ExplainedClass,
    IReadOnlyList<PredictionReason> Reasons,
    IReadOnlyList<Counterfactual>? Counterfactuals);

/// <summary>
/// A registered predictor, loaded: its tree model (Lasthope's evaluator, the same scores as lib_lightgbm), its inputs'
/// encoding, its fallback and its phrases. Immutable and shared between threads; per-row scratch is the caller's.
/// </summary>
public sealed class Predictor : IServedPackage
{
    /// <summary>The most values a counterfactual search tries for one feature.</summary>
    public const int MaxCounterfactualCandidates = 256;

    private readonly Dictionary<string, int> _columns;
    private readonly Dictionary<string, int>?[] _codes;
    private readonly FallbackScorer _fallback;

    public Predictor(PredictorPackage package, string version)
    {
        ArgumentNullException.ThrowIfNull(package);
        Package = package;
        Version = version;
        try
        {
            Model = TreeModel.FromLightGbm(package.Model);
        }
        catch (ModelLoadException e)
        {
            throw new PredictorPackageException($"The package's model cannot be loaded: {e.Message}", e);
        }

        if (Model.FeatureCount != package.Features.Count || !Model.FeatureNames.SequenceEqual(package.Features.Select(f => f.Name)))
        {
            throw new PredictorPackageException($"The model's features ({string.Join(", ", Model.FeatureNames)}) are not the package's ({string.Join(", ", package.Features.Select(f => f.Name))}).");
        }

        var expected = package.Task switch
        {
            PredictionTask.Binary => Model.ClassCount == 1 && Model.OutputTransform == OutputTransform.Sigmoid,
            PredictionTask.Multiclass => Model.ClassCount == package.Classes.Count && Model.OutputTransform == OutputTransform.Softmax,
            _ => Model.ClassCount == 1 && !Model.PredictsProbability,
        };
        if (!expected)
        {
            throw new PredictorPackageException($"A {package.Task.ToString().ToLowerInvariant()} predictor cannot serve a model with objective '{Model.Objective}'.");
        }

        if (Model.BaseScores.Any(b => !double.IsFinite(b)))
        {
            throw new PredictorPackageException("The model's base score is not finite.");
        }

        if (!Model.HasCovers)
        {
            throw new PredictorPackageException("The model has no node counts, which its explanations (TreeSHAP) need.");
        }

        _columns = package.Features.Select((f, i) => (f.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        _codes = [.. package.Features.Select(f => f.Categories?.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal))];
        _fallback = new FallbackScorer(package, _columns);
    }

    /// <summary>
    /// Loads a package: every reason it cannot serve is a <see cref="PredictorPackageException"/>, so that a caller
    /// that registers or loads one has a single refusal to answer.
    /// </summary>
    public static Predictor Load(PredictorPackage package, string version)
    {
        try
        {
            return new Predictor(package, version);
        }
        catch (Exception e) when (e is not (PredictorPackageException or OutOfMemoryException))
        {
            throw new PredictorPackageException($"The predictor package cannot be loaded: {e.Message}", e);
        }
    }

    public PredictorPackage Package { get; }

    public string Name => Package.Name;

    public string Version { get; }

    public TreeModel Model { get; }

    public int FeatureCount => Package.Features.Count;

    /// <summary>Raw scores per row: the number of classes for multiclass, else 1.</summary>
    public int Outputs => Model.ClassCount;

    /// <summary>The column of a feature name, or -1.</summary>
    public int ColumnOf(string name) => _columns.GetValueOrDefault(name, -1);

    /// <summary>
    /// Encodes one named value into <paramref name="row"/>: a number for a numeric input, the category's code for a
    /// categorical one (a number is read as its category's name, so 3 and "3" are the same category; an unseen
    /// category is missing). Returns the problem, or null.
    /// </summary>
    public string? Encode(int column, FeatureValue value, Span<double> row)
    {
        if (value.IsMissing)
        {
            row[column] = double.NaN;
            return null;
        }

        if (_codes[column] is not { } codes)
        {
            if (value.Text is not null)
            {
                return "must be a number (or null when missing).";
            }

            row[column] = value.Number;
            return null;
        }

        var text = value.Text ?? value.Number.ToString(CultureInfo.InvariantCulture);
        row[column] = codes.TryGetValue(text, out var code) ? code : double.NaN;
        return null;
    }

    /// <summary>
    /// The value a request gave (or a row holds), in words: a category's name, a number (round-trip, so that a
    /// counterfactual's threshold neighbour is exact), or "missing".
    /// </summary>
    public string Describe(int column, double encoded) =>
        double.IsNaN(encoded) ? "missing"
        : Package.Features[column].Categories is { } categories ? categories[(int)encoded]
        : encoded.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The model's raw scores of one row (<see cref="Outputs"/> values).</summary>
    public void ScoreModel(ReadOnlySpan<double> row, Span<double> raw) => Model.ScoreClasses(row, raw[..Outputs]);

    /// <summary>The fallback's raw scores of one row.</summary>
    public void ScoreFallback(ReadOnlySpan<double> row, Span<double> raw) => _fallback.Score(row, raw[..Outputs]);

    /// <summary>
    /// The prediction of one row whose raw scores are given; with <paramref name="reasons"/> &gt; 0 the top reasons,
    /// from exact TreeSHAP (model) or the scorecard's terms (fallback), and with <paramref name="counterfactual"/> the
    /// smallest single-feature change of the top reasons that flips a binary decision (model rows only).
    /// </summary>
    public Prediction Predict(ReadOnlySpan<double> row, PredictionSource source, int reasons, bool counterfactual, long deadline = long.MaxValue)
    {
        Span<double> raw = stackalloc double[Outputs];
        if (source == PredictionSource.Model)
        {
            ScoreModel(row, raw);
        }
        else
        {
            ScoreFallback(row, raw);
        }

        var (score, decision, probabilities, explained) = Outcome(raw, source);
        var contributions = reasons > 0 ? new double[FeatureCount + 1] : null;
        if (contributions is not null && source == PredictionSource.Model)
        {
            Model.ExplainShap(row, explained, contributions);
        }
        else if (contributions is not null)
        {
            _fallback.Explain(row, explained, contributions);
        }

        // Finite leaves can still sum past double's range; such a row is the model's failure (its fallback answers,
        // and the fallback's bounded weights and clamped terms keep its own scores finite).
        if (!double.IsFinite(score) || !double.IsFinite(raw[explained]) || probabilities?.All(double.IsFinite) == false || contributions?.All(double.IsFinite) == false)
        {
            throw new NonFiniteScoreException($"Predictor {Name} ({Version}) gave a non-finite score from its {source.ToString().ToLowerInvariant()}.");
        }

        if (contributions is null)
        {
            return new Prediction(source, score, decision, probabilities, raw[explained], double.NaN, explained, [], null);
        }

        var top = TopReasons(row, contributions, reasons);
        var flips = counterfactual && source == PredictionSource.Model && Package.Task == PredictionTask.Binary ? Counterfactuals(row, top, score, deadline) : null;
        return new Prediction(source, score, decision, probabilities, raw[explained], contributions[FeatureCount], explained, top, flips);
    }

    /// <summary>A binary predictor's decision for a probability: the positive decision at or above the threshold.</summary>
    public string Decide(double probability) => probability >= Package.Threshold ? Package.PositiveDecision : Package.NegativeDecision;

    /// <summary>
    /// Raw scores to predictions in place (P(positive), the value, or every class's probability), through the link of
    /// the scorer that gave them: the model's own (its sigmoid's scale, a random forest's mean, a Poisson model's
    /// exponential), or the fallback's (logistic, softmax, identity), since a scorecard or a prior is fitted on its own
    /// scale whatever the model's objective.
    /// </summary>
    public void Link(Span<double> raw, PredictionSource source)
    {
        raw = raw[..Outputs];
        if (source == PredictionSource.Model && Package.Task == PredictionTask.Multiclass)
        {
            Model.Transform(raw);
        }
        else if (source == PredictionSource.Model)
        {
            raw[0] = Model.Transform(raw[0]);
        }
        else if (Package.Task == PredictionTask.Multiclass)
        {
            FallbackScorer.Softmax(raw);
        }
        else if (Package.Task == PredictionTask.Binary)
        {
            raw[0] = FallbackScorer.Logistic(raw[0]);
        }
    }

    private (double Score, string? Decision, double[]? Probabilities, int Explained) Outcome(ReadOnlySpan<double> raw, PredictionSource source)
    {
        var linked = raw.ToArray();
        Link(linked, source);
        switch (Package.Task)
        {
            case PredictionTask.Binary:
                return (linked[0], Decide(linked[0]), null, 0);
            case PredictionTask.Multiclass:
                var best = 0;
                for (var k = 1; k < linked.Length; k++)
                {
                    best = linked[k] > linked[best] ? k : best;
                }

                return (linked[best], Package.Classes[best], linked, best);
            default:
                return (linked[0], null, null, 0);
        }
    }

    private PredictionReason[] TopReasons(ReadOnlySpan<double> row, double[] contributions, int count)
    {
        var order = Enumerable.Range(0, FeatureCount)
            .Where(i => contributions[i] != 0)
            .OrderByDescending(i => Math.Abs(contributions[i])).ThenBy(i => i)
            .Take(count);
        var result = new List<PredictionReason>(count);
        foreach (var i in order)
        {
            var name = Package.Features[i].Name;
            var template = Package.Reasons.GetValueOrDefault(name);
            var phrase = contributions[i] > 0 ? template?.Raises ?? $"raises the {Package.Target}" : template?.Lowers ?? $"lowers the {Package.Target}";
            result.Add(new PredictionReason(name, Describe(i, row[i]), contributions[i], phrase));
        }

        return [.. result];
    }

    /// <summary>
    /// For each reason that pushes toward the current decision, the value of that feature alone nearest to its own
    /// that flips it. The model is constant between consecutive split thresholds, so for a number it is enough to try
    /// each threshold t (x = t goes left, as LightGBM's x &lt;= t) and the next double above it, nearest first; a
    /// category tries every other category and keeps the one that moves the score furthest. Each feature tries at most
    /// <see cref="MaxCounterfactualCandidates"/> values, and the search stops at <paramref name="deadline"/> with the
    /// flips found so far: a client cannot buy a long search with a large model.
    /// </summary>
    private Counterfactual[] Counterfactuals(ReadOnlySpan<double> row, PredictionReason[] reasons, double probability, long deadline)
    {
        var positive = probability >= Package.Threshold;
        var flips = new List<Counterfactual>();
        var candidate = row.ToArray();
        Span<double> score = stackalloc double[1];
        foreach (var reason in reasons)
        {
            if (reason.Contribution > 0 != positive)
            {
                continue; // it argues for the other decision already
            }

            var column = _columns[reason.Feature];
            var current = row[column];
            var categorical = Package.Features[column].IsCategorical;
            var values = categorical
                ? Enumerable.Range(0, Package.Features[column].Categories!.Count).Select(c => (double)c).Where(c => c != current)
                : double.IsNaN(current) ? []
                : CandidateNumbers(Model.SplitThresholds(column).ToArray(), current);
            Counterfactual? found = null;
            foreach (var value in values.Take(MaxCounterfactualCandidates))
            {
                if (Stopwatch.GetTimestamp() >= deadline)
                {
                    break;
                }

                candidate[column] = value;
                ScoreModel(candidate, score);
                var p = Model.Transform(score[0]);
                if (p >= Package.Threshold != positive && (found is null || categorical && (positive ? p < found.Score : p > found.Score)))
                {
                    found = new Counterfactual(reason.Feature, reason.Value, Describe(column, value), positive ? Package.NegativeDecision : Package.PositiveDecision, p);
                    if (!categorical)
                    {
                        break; // numbers are tried nearest first
                    }
                }
            }

            candidate[column] = current;
            if (found is not null)
            {
                flips.Add(found);
            }
        }

        return [.. flips];
    }

    private static IEnumerable<double> CandidateNumbers(double[] thresholds, double current) =>
        thresholds.SelectMany(t => new[] { t, Math.BitIncrement(t) })
            .Where(v => v != current)
            .OrderBy(v => Math.Abs(v - current)).ThenBy(v => v);
}

/// <summary>A scorer gave a score beyond double's range: the row's scorer failed, and the cascade falls back.</summary>
public sealed class NonFiniteScoreException(string message) : Exception(message);
