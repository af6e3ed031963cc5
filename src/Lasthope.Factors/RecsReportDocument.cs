using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Evaluation;

namespace Lasthope.Factors;

/// <summary>
/// The JSON report of an offline evaluation of ALS against popularity (<c>lasthope evaluate-recs --json</c>): what was
/// split, what was trained, the search if there was one, and every metric with its intervals. Property order is the
/// JSON order; null properties are omitted. Serialise with <see cref="ToJson"/> (indented, camelCase).
/// </summary>
/// <param name="Protocol">holdout, last-k, known-users or fold-in (<see cref="RecsExperiment.ProtocolName"/>).</param>
/// <param name="Description">The experiment's one-line description.</param>
/// <param name="Split">The split's settings and counts.</param>
/// <param name="Train">The training matrix's size.</param>
/// <param name="EvaluationUsers">Users scored.</param>
/// <param name="CatalogueSize">Items the recommenders rank.</param>
/// <param name="Model">The trained model and its hyperparameters.</param>
/// <param name="Baseline">The baseline's name (popular).</param>
/// <param name="PrecisionDenominator"><c>k</c>, or <c>min(k,|test|)</c>.</param>
/// <param name="Level">Confidence level of the intervals.</param>
/// <param name="Resamples">Bootstrap resamples of the users.</param>
/// <param name="Search">The hyperparameter search on a validation split of the training part; null when none ran.</param>
/// <param name="Metrics">One row per metric and cut-off.</param>
/// <param name="Seconds">Wall time of the whole evaluation, rounded to 0.01 s.</param>
public sealed record RecsReportDocument(
    string Protocol,
    string Description,
    RecsSplitSettings Split,
    RecsTrainingData Train,
    int EvaluationUsers,
    int CatalogueSize,
    RecsModelSettings Model,
    string Baseline,
    string PrecisionDenominator,
    double Level,
    int Resamples,
    RecsSearchReport? Search,
    IReadOnlyList<RecsMetricRow> Metrics,
    double Seconds)
{
    /// <summary>The report of <paramref name="report"/>, measured on <paramref name="experiment"/> with <paramref name="model"/>.</summary>
    /// <param name="experiment">The protocol the model was trained and scored on.</param>
    /// <param name="model">The model evaluated.</param>
    /// <param name="report">The comparison with the baseline.</param>
    /// <param name="search">The search that chose the model's hyperparameters, or null.</param>
    /// <param name="elapsed">Wall time of the whole evaluation.</param>
    public static RecsReportDocument Create(RecsExperiment experiment, AlsModel model, RecsEvaluationReport report, AlsTuningResult? search, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(report);
        var o = model.Training.Options;
        return new RecsReportDocument(
            experiment.ProtocolName,
            experiment.Description,
            experiment.Settings,
            new RecsTrainingData(experiment.Train.Users.Count, experiment.Train.Items.Count, experiment.Train.NonZeros),
            report.Users,
            report.CatalogueSize,
            new RecsModelSettings(report.ModelName, model.Version, o.Factors, o.Regularization, o.Alpha, o.Iterations, o.CgSteps, o.Solver.ToString(), o.Seed),
            report.BaselineName,
            report.Precision == Evaluation.PrecisionDenominator.K ? "k" : "min(k,|test|)",
            report.Level,
            report.Resamples,
            search is null ? null : RecsSearchReport.From(search),
            [.. report.Metrics.Select(m => RecsMetricRow.From(m, report.ModelName, report.BaselineName))],
            Math.Round(elapsed.TotalSeconds, 2));
    }

    /// <summary>Indented camelCase JSON (<see cref="RecsReportJsonContext"/>).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, RecsReportJsonContext.Default.RecsReportDocument);

    /// <summary>Reads a report written by <see cref="ToJson"/>.</summary>
    /// <exception cref="JsonException">The text is not such a report.</exception>
    public static RecsReportDocument Parse(string json) =>
        JsonSerializer.Deserialize(json, RecsReportJsonContext.Default.RecsReportDocument) ?? throw new JsonException("The report is null.");
}

/// <summary>The training matrix's size: users and items of its id maps, distinct (user, item) interactions.</summary>
public sealed record RecsTrainingData(int Users, int Items, int Interactions);

/// <summary>The evaluated model: its report name, version and the hyperparameters it trained with.</summary>
public sealed record RecsModelSettings(string Name, string Version, int Factors, float Regularization, float Alpha, int Iterations, int CgSteps, string Solver, int Seed);

/// <summary>The hyperparameter search (<see cref="AlsTuning.Tune"/>): its objective, the point chosen and every trial.</summary>
/// <param name="Objective">What was maximised, on which split.</param>
/// <param name="ValidationUsers">Users of the validation split.</param>
/// <param name="Seconds">Wall time, rounded to 0.01 s.</param>
/// <param name="BudgetExhausted">The search stopped at its time budget.</param>
/// <param name="Best">The point chosen.</param>
/// <param name="Trials">Every trial, in the order run.</param>
public sealed record RecsSearchReport(string Objective, int ValidationUsers, double Seconds, bool BudgetExhausted, RecsSearchBest Best, IReadOnlyList<RecsSearchTrial> Trials)
{
    /// <summary>The report of a search.</summary>
    public static RecsSearchReport From(AlsTuningResult search)
    {
        ArgumentNullException.ThrowIfNull(search);
        return new RecsSearchReport(
            search.Objective,
            search.ValidationUsers,
            Math.Round(search.Elapsed.TotalSeconds, 2),
            search.BudgetExhausted,
            new RecsSearchBest(search.Chosen.Regularization, search.Chosen.Alpha, search.Score),
            [.. search.Trials.Select(RecsSearchTrial.From)]);
    }
}

/// <summary>The regularization and alpha the search chose, and their objective score.</summary>
public sealed record RecsSearchBest(float Regularization, float Alpha, double Score);

/// <summary>One trial of the search.</summary>
/// <param name="Regularization">Its regularization.</param>
/// <param name="Alpha">Its alpha.</param>
/// <param name="Iterations">The ALS iterations it trained (successive halving trains the early rounds shorter).</param>
/// <param name="Score">The objective; null (omitted) when not finite.</param>
/// <param name="Seconds">Its wall time, rounded to 0.001 s.</param>
public sealed record RecsSearchTrial(double Regularization, double Alpha, int Iterations, double? Score, double Seconds)
{
    /// <summary>A trial of <see cref="AlsTuning.Tune"/>, whose parameters are regularization, alpha and iterations.</summary>
    public static RecsSearchTrial From(SearchTrial trial)
    {
        ArgumentNullException.ThrowIfNull(trial);
        return new RecsSearchTrial(
            trial.Parameters["regularization"],
            trial.Parameters["alpha"],
            (int)trial.Parameters["iterations"],
            double.IsFinite(trial.Score) ? trial.Score : null,
            Math.Round(trial.Elapsed.TotalSeconds, 3));
    }
}

/// <summary>An estimate and its interval.</summary>
public sealed record RecsInterval(double Estimate, double Lower, double Upper)
{
    /// <summary>The estimate and bounds of <paramref name="interval"/> (its level is the report's).</summary>
    public static RecsInterval From(Interval interval) => new(interval.Estimate, interval.Lower, interval.Upper);
}

/// <summary>
/// One metric at one cut-off: the model's and the baseline's values with their intervals, the paired difference and
/// the verdict. The JSON names the members after the recommenders (<see cref="RecsMetricRowConverter"/>):
/// <c>{"metric", "k", "als": {...}, "popular": {...}, "difference": {...}, "alsAbovePopular": true}</c>.
/// </summary>
/// <param name="Metric">One of <see cref="RecsMetrics"/>.</param>
/// <param name="K">Cut-off.</param>
/// <param name="ModelName">The model's name (als): the name of its interval.</param>
/// <param name="Model">The model's value and interval.</param>
/// <param name="BaselineName">The baseline's name (popular): the name of its interval.</param>
/// <param name="Baseline">The baseline's value and interval.</param>
/// <param name="Difference">Model minus baseline, paired over the same resampled users.</param>
/// <param name="ModelAboveBaseline">The paired difference's interval lies above zero.</param>
[JsonConverter(typeof(RecsMetricRowConverter))]
public sealed record RecsMetricRow(
    string Metric, int K, string ModelName, RecsInterval Model, string BaselineName, RecsInterval Baseline, RecsInterval Difference, bool ModelAboveBaseline)
{
    /// <summary>The JSON name of the paired-difference interval.</summary>
    public const string DifferenceName = "difference";

    /// <summary>The JSON name of the verdict: <c>alsAbovePopular</c> for als and popular.</summary>
    public string AboveName => VerdictName(ModelName, BaselineName);

    /// <summary>The row of <paramref name="comparison"/>.</summary>
    /// <param name="comparison">The metric's comparison.</param>
    /// <param name="modelName">The model's name (als).</param>
    /// <param name="baselineName">The baseline's name (popular).</param>
    public static RecsMetricRow From(MetricComparison comparison, string modelName, string baselineName)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        ArgumentException.ThrowIfNullOrEmpty(baselineName);
        return new RecsMetricRow(
            comparison.Metric, comparison.K, modelName, RecsInterval.From(comparison.Model), baselineName, RecsInterval.From(comparison.Baseline),
            RecsInterval.From(comparison.Difference), comparison.ModelAboveBaseline);
    }

    /// <summary>
    /// The verdict's name for a model and a baseline: the model's name, <c>Above</c>, and the baseline's name with its
    /// first letter upper-cased (<c>alsAbovePopular</c>).
    /// </summary>
    public static string VerdictName(string modelName, string baselineName)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelName);
        ArgumentException.ThrowIfNullOrEmpty(baselineName);
        return $"{modelName}Above{char.ToUpperInvariant(baselineName[0])}{baselineName[1..]}";
    }
}

/// <summary>
/// Writes a <see cref="RecsMetricRow"/> with its intervals under the recommenders' names, and reads it back: the
/// boolean member is the verdict (<c>{model}Above{Baseline}</c>), which names the model; the baseline is the other
/// interval besides <c>difference</c>.
/// </summary>
public sealed class RecsMetricRowConverter : JsonConverter<RecsMetricRow>
{
    private const string Above = "Above";

    public override void Write(Utf8JsonWriter writer, RecsMetricRow value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartObject();
        writer.WriteString("metric", value.Metric);
        writer.WriteNumber("k", value.K);
        WriteInterval(writer, value.ModelName, value.Model);
        WriteInterval(writer, value.BaselineName, value.Baseline);
        WriteInterval(writer, RecsMetricRow.DifferenceName, value.Difference);
        writer.WriteBoolean(value.AboveName, value.ModelAboveBaseline);
        writer.WriteEndObject();
    }

    public override RecsMetricRow Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var row = document.RootElement;
        if (row.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("A metric row must be an object.");
        }

        var verdict = row.EnumerateObject().FirstOrDefault(p => p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False);
        var at = verdict.Value.ValueKind == JsonValueKind.Undefined ? -1 : verdict.Name.IndexOf(Above, StringComparison.Ordinal);
        if (at <= 0)
        {
            throw new JsonException("A metric row needs its verdict, {model}Above{Baseline}.");
        }

        var modelName = verdict.Name[..at];
        var baseline = row.EnumerateObject().FirstOrDefault(p => p.Value.ValueKind == JsonValueKind.Object && p.Name != modelName && p.Name != RecsMetricRow.DifferenceName);
        if (baseline.Value.ValueKind == JsonValueKind.Undefined || !row.TryGetProperty("metric", out var metric) || !row.TryGetProperty("k", out var k))
        {
            throw new JsonException("A metric row needs metric, k and the baseline's interval.");
        }

        return new RecsMetricRow(
            metric.GetString() ?? throw new JsonException("A metric row's metric is null."), k.GetInt32(),
            modelName, ReadInterval(row, modelName), baseline.Name, ReadInterval(row, baseline.Name), ReadInterval(row, RecsMetricRow.DifferenceName),
            verdict.Value.GetBoolean());
    }

    private static void WriteInterval(Utf8JsonWriter writer, string name, RecsInterval interval)
    {
        writer.WriteStartObject(name);
        writer.WriteNumber("estimate", interval.Estimate);
        writer.WriteNumber("lower", interval.Lower);
        writer.WriteNumber("upper", interval.Upper);
        writer.WriteEndObject();
    }

    private static RecsInterval ReadInterval(JsonElement row, string name)
    {
        if (!row.TryGetProperty(name, out var interval) || interval.ValueKind != JsonValueKind.Object
            || !interval.TryGetProperty("estimate", out var estimate) || !interval.TryGetProperty("lower", out var lower) || !interval.TryGetProperty("upper", out var upper))
        {
            throw new JsonException($"A metric row needs the interval '{name}' with estimate, lower and upper.");
        }

        return new RecsInterval(estimate.GetDouble(), lower.GetDouble(), upper.GetDouble());
    }
}

/// <summary>The source-generated serialiser of <see cref="RecsReportDocument"/>: camelCase, indented, nulls omitted.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecsReportDocument))]
public sealed partial class RecsReportJsonContext : JsonSerializerContext;
