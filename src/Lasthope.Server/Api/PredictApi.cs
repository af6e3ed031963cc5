using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lasthope.Core.Identifiers;
using Lasthope.Core.Serving;
using Lasthope.Server.Configuration;
using Lasthope.Server.Models;
using Lasthope.Server.Predict;
using Lasthope.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lasthope.Server.Api;

/// <summary>One row of POST /v1/predict/{name}: input values by name (a number, a category's name, or null when missing).</summary>
public sealed record PredictRowDto
{
    [JsonConverter(typeof(FeatureValuesConverter))]
    public IReadOnlyDictionary<string, FeatureValue>? Features { get; init; }
}

/// <summary>POST /v1/predict/{name}: one row (<c>features</c>) or a batch (<c>rows</c>).</summary>
public sealed record PredictRequest
{
    /// <summary>One row's input values by name. Give this or <see cref="Rows"/>.</summary>
    [JsonConverter(typeof(FeatureValuesConverter))]
    public IReadOnlyDictionary<string, FeatureValue>? Features { get; init; }

    /// <summary>Several rows (at most Limits:MaxPredictRows).</summary>
    public IReadOnlyList<PredictRowDto?>? Rows { get; init; }

    /// <summary>Reasons per row: the top N features by exact TreeSHAP contribution (0 to 20). Default 5.</summary>
    public int? Explain { get; init; }

    /// <summary>For a binary predictor: for each top reason, the smallest change of that feature alone that flips the decision.</summary>
    public bool? Counterfactual { get; init; }

    /// <summary>A registered version of this predictor to use instead of the active one.</summary>
    public string? Version { get; init; }

    /// <summary>This request's budget in milliseconds (1 to 60000), which can shorten the predictor's budget but not extend it; default the predictor's.</summary>
    public double? BudgetMs { get; init; }
}

public sealed record ReasonDto(string Feature, string Value, double Contribution, string Phrase);

public sealed record CounterfactualDto(string Feature, string From, string To, string Decision, double Score);

/// <summary>One row's answer.</summary>
/// <param name="Source"><c>model</c> or <c>fallback</c>: which scorer answered (and explained) this row.</param>
/// <param name="Score">Binary: P(positive); regression: the value; multiclass: the probability of the decided class.</param>
/// <param name="Decision">Binary: the decision under the predictor's threshold; multiclass: the class; regression: absent.</param>
/// <param name="RawScore">The margin; the contributions plus <paramref name="BaseValue"/> add up to it.</param>
public sealed record PredictionDto(
    string Source,
    double Score,
    string? Decision,
    IReadOnlyDictionary<string, double>? Probabilities,
    double RawScore,
    double? BaseValue,
    IReadOnlyList<ReasonDto>? Reasons,
    IReadOnlyList<CounterfactualDto>? Counterfactuals);

public sealed record PredictTimingsDto(double TotalMs, double ModelMs);

/// <summary>The response of POST /v1/predict/{name}, with the served-path contract of /v1/rank.</summary>
/// <param name="ServedBy">model (every row), model_partial (a prefix of the rows; the fallback answered the rest), heuristic_fallback (the fallback answered every row).</param>
/// <param name="Fallback">What the fallback is: <c>scorecard</c> or <c>constant</c>.</param>
public sealed record PredictResponse(
    string RequestId,
    string Predictor,
    string ModelVersion,
    PredictionTask Task,
    ServedBy ServedBy,
    FallbackReason? FallbackReason,
    string Fallback,
    int ModelRows,
    double BudgetMs,
    PredictTimingsDto Timings,
    IReadOnlyList<PredictionDto> Predictions)
{
    public static PredictResponse Of(PredictResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var p = r.Predictor;
        return new PredictResponse(r.RequestId, p.Name, p.Version, p.Package.Task, r.ServedBy, r.Reason, p.Package.Fallback.Kind, r.ModelRows, r.BudgetMs,
            new PredictTimingsDto(Math.Round(r.ElapsedMs, 3), Math.Round(r.ModelMs, 3)),
            [.. r.Rows.Select(row => new PredictionDto(
                row.Source == PredictionSource.Model ? "model" : "fallback",
                row.Score,
                row.Decision,
                row.Probabilities is { } probabilities ? p.Package.Classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => probabilities[x.i], StringComparer.Ordinal) : null,
                row.RawScore,
                double.IsNaN(row.BaseValue) ? null : row.BaseValue,
                row.Reasons.Count == 0 ? null : [.. row.Reasons.Select(x => new ReasonDto(x.Feature, x.Value, x.Contribution, x.Phrase))],
                row.Counterfactuals is null ? null : [.. row.Counterfactuals.Select(c => new CounterfactualDto(c.Feature, c.From, c.To, c.Decision, c.Score))]))]);
    }
}

/// <summary>
/// Reads a row's values: an object of name to number, string or null, at most <see cref="MaxValues"/> of them,
/// numbers finite, strings by the id rule; anything else is a 400 naming the value.
/// </summary>
public sealed class FeatureValuesConverter : JsonConverter<IReadOnlyDictionary<string, FeatureValue>>
{
    public const int MaxValues = 1024;

    public override IReadOnlyDictionary<string, FeatureValue>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonFieldException("features must be an object of name: number, string or null.");
        }

        var values = new Dictionary<string, FeatureValue>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (values.Count >= MaxValues)
            {
                throw new JsonFieldException($"A row has more than {MaxValues} values.");
            }

            values[name] = reader.TokenType switch
            {
                JsonTokenType.Null => FeatureValue.Missing,
                JsonTokenType.Number when reader.TryGetDouble(out var number) && double.IsFinite(number) => FeatureValue.Of(number),
                JsonTokenType.String when reader.GetString() is { } text && Ids.Problem(text) is null => FeatureValue.Of(text),
                JsonTokenType.String => throw new JsonFieldException($"Value '{Ids.Printable(name)}' must be 1-256 printable characters."),
                _ => throw new JsonFieldException($"Value '{Ids.Printable(name)}' must be a finite number, a string or null."),
            };
        }

        return values;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, FeatureValue> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartObject();
        foreach (var (name, v) in value)
        {
            writer.WritePropertyName(name);
            if (v.Text is { } text)
            {
                writer.WriteStringValue(text);
            }
            else if (double.IsNaN(v.Number))
            {
                writer.WriteNullValue();
            }
            else
            {
                writer.WriteNumberValue(v.Number);
            }
        }

        writer.WriteEndObject();
    }
}

/// <summary>POST /v1/predict/{name}, and the predictors' registration: POST /v1/predictors, GET /v1/predictors.</summary>
public static class PredictApi
{
    public const int MaxReasons = 20;

    public static IEndpointRouteBuilder MapPredictApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/predict/{name}", PredictAsync)
            .WithName("Predict")
            .WithSummary("Score one row or a batch with a registered predictor, with reasons, within its budget, never blank")
            .WithDescription("The predictor's model (a LightGBM binary, regression or multiclass model served by Lasthope's evaluator) scores each row and explains it by exact TreeSHAP: the top N features with their value, signed contribution and phrase, adding up with baseValue to rawScore. Rows the model has not reached by the deadline, and every row on a model error or an open circuit, are answered and explained by the predictor's fallback (a scorecard or a constant); servedBy, fallbackReason and each row's source say which.")
            .Produces<PredictResponse>()
            .WithBodyProblems()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .RequireScope(Scopes.Rank)
            .ReadsBodyFirst()
            .BehindServingDoor();
        app.MapGet("/predictors", List)
            .WithName("ListPredictors")
            .WithSummary("The active predictors: name, version, task, inputs, threshold and fallback")
            .RequireAuthorization(AccessRules.AnyKey);
        return app;
    }

    public static async Task<Results<Ok<PredictResponse>, ValidationProblem, ProblemHttpResult>> PredictAsync(
        string name, PredictRequest request, PredictorRegistry registry, PredictionService service, LimitsOptions limits, HttpContext http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var arrival = http.Items.TryGetValue(RankApi.ArrivalKey, out var value) && value is long timestamp ? timestamp : Stopwatch.GetTimestamp();
        var parameters = new Parameters();
        parameters.Id("route.name", name);
        parameters.Id("version", request.Version, required: false);
        if (request.Explain is < 0 or > MaxReasons)
        {
            parameters.Add("explain", $"explain must be 0 to {MaxReasons} reasons.");
        }

        if (request.BudgetMs is { } budget && !(budget is >= 1 and <= 60_000))
        {
            parameters.Add("budgetMs", "budgetMs must be 1 to 60000.");
        }

        var rows = request.Features is { } single ? [single] : request.Rows?.Select(r => r?.Features).ToArray();
        if (request.Features is not null && request.Rows is not null || rows is null || rows.Length == 0)
        {
            parameters.Add("features", "give one row as features, or a non-empty rows array, not both.");
        }
        else if (rows.Length > limits.MaxPredictRows)
        {
            parameters.Add("rows", $"at most {limits.MaxPredictRows} rows (Limits:MaxPredictRows); score a file with lasthope score-batch.");
        }

        if (!parameters.Valid)
        {
            return parameters.Problem("Invalid predict request");
        }

        Predictor? predictor;
        try
        {
            predictor = request.Version is { } version ? await registry.GetAsync(version, cancellationToken) : registry.Active(name);
        }
        catch (ModelRejectedException e)
        {
            return TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Predictor unusable");
        }

        if (predictor is null || predictor.Name != name)
        {
            return request.Version is null
                ? Problems.NotFound("route.name", "Predictor not found", $"No predictor '{Ids.Printable(name)}' is active.")
                : Problems.NotFound("version", "Predictor version not found", $"No version '{Ids.Printable(request.Version)}' of predictor '{Ids.Printable(name)}' is registered.");
        }

        var matrix = Encode(predictor, rows!, request.Features is not null, parameters);
        if (!parameters.Valid)
        {
            return parameters.Problem("Invalid predict request");
        }

        var command = new PredictCommand(Guid.CreateVersion7().ToString("N"), matrix, rows!.Length, request.Explain ?? 5, request.Counterfactual ?? false, request.BudgetMs);
        return TypedResults.Ok(PredictResponse.Of(await service.PredictAsync(predictor, command, arrival, cancellationToken)));
    }

    /// <summary>The rows in the predictor's column order; every unknown name or wrong type is an error naming its field.</summary>
    private static double[] Encode(Predictor predictor, IReadOnlyDictionary<string, FeatureValue>?[] rows, bool single, Parameters parameters)
    {
        var width = predictor.FeatureCount;
        var matrix = new double[rows.Length * width];
        Array.Fill(matrix, double.NaN);
        for (var r = 0; r < rows.Length; r++)
        {
            var prefix = single ? "features" : $"rows[{r}].features";
            if (rows[r] is not { } row)
            {
                parameters.Add(prefix, "a row needs its features object.");
                continue;
            }

            foreach (var (feature, v) in row)
            {
                var column = predictor.ColumnOf(feature);
                var problem = column < 0
                    ? $"'{Ids.Printable(feature)}' is not an input of predictor '{predictor.Name}' (its inputs: {string.Join(", ", predictor.Package.Features.Select(f => f.Name))})."
                    : predictor.Encode(column, v, matrix.AsSpan(r * width, width));
                if (problem is not null)
                {
                    parameters.Add($"{prefix}.{Ids.Printable(feature)}", problem);
                    if (parameters.Errors.Count >= 20)
                    {
                        return matrix; // enough to show what is wrong
                    }
                }
            }
        }

        return matrix;
    }

    public static Ok<PredictorDto[]> List(PredictorRegistry registry) =>
        TypedResults.Ok(registry.ActivePredictors.Values.OrderBy(p => p.Name, StringComparer.Ordinal).Select(PredictorDto.Of).ToArray());
}

/// <summary>An active predictor as GET /v1/predictors shows it.</summary>
public sealed record PredictorDto(
    string Name,
    string Version,
    PredictionTask Task,
    IReadOnlyList<PredictorInputDto> Inputs,
    IReadOnlyList<string> Classes,
    double? Threshold,
    string? PositiveDecision,
    string? NegativeDecision,
    string Fallback,
    int BudgetMs,
    int Trees)
{
    public static PredictorDto Of(Predictor p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var binary = p.Package.Task == PredictionTask.Binary;
        return new PredictorDto(p.Name, p.Version, p.Package.Task, [.. p.Package.Features.Select(f => new PredictorInputDto(f.Name, f.IsCategorical ? "categorical" : "numeric", f.Categories))],
            p.Package.Classes, binary ? p.Package.Threshold : null, binary ? p.Package.PositiveDecision : null, binary ? p.Package.NegativeDecision : null,
            p.Package.Fallback.Kind, p.Package.BudgetMs, p.Model.TreeCount);
    }
}

public sealed record PredictorInputDto(string Name, string Type, IReadOnlyList<string>? Categories);
