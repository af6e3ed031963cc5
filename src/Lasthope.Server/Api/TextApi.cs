using System.Diagnostics;
using Lasthope.Core.Identifiers;
using Lasthope.Core.Serving;
using Lasthope.Server.Configuration;
using Lasthope.Server.Models;
using Lasthope.Server.Security;
using Lasthope.Server.Text;
using Lasthope.Text;
using Lasthope.Text.EditNeed;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lasthope.Server.Api;

/// <summary>POST /v1/text/{name}: one text (<c>text</c>) or a batch (<c>texts</c>).</summary>
public sealed record TextRequest
{
    /// <summary>One text. Give this or <see cref="Texts"/>.</summary>
    public string? Text { get; init; }

    /// <summary>Several texts (at most Limits:MaxTextBatch), answered in order.</summary>
    public IReadOnlyList<string?>? Texts { get; init; }

    /// <summary>A registered version of this model to use instead of the active one.</summary>
    public string? Version { get; init; }

    /// <summary>This request's budget in milliseconds (1 to 60000), which can shorten the model's budget but not extend it.</summary>
    public double? BudgetMs { get; init; }
}

/// <summary>One text's answer.</summary>
/// <param name="Label">Classification: the most probable class; regression: absent.</param>
/// <param name="Score">Classification: the probability of <paramref name="Label"/>; regression: the value.</param>
/// <param name="Probabilities">Classification: every class's probability.</param>
public sealed record TextPredictionDto(string? Label, double Score, IReadOnlyDictionary<string, double>? Probabilities);

public sealed record TextTimingsDto(double TotalMs, double EncoderMs);

/// <summary>The response of POST /v1/text/{name}, with the served-path contract of /v1/rank.</summary>
/// <param name="ServedBy"><c>model</c> (the encoder family answered) or <c>heuristic_fallback</c> (the TF-IDF baseline did).</param>
/// <param name="Family"><c>encoder</c> or <c>baseline</c>: which family's scores these are.</param>
public sealed record TextResponse(
    string RequestId,
    string Model,
    string ModelVersion,
    string Task,
    ServedBy ServedBy,
    FallbackReason? FallbackReason,
    string Family,
    double BudgetMs,
    TextTimingsDto Timings,
    IReadOnlyList<TextPredictionDto> Predictions)
{
    public static TextResponse Of(TextResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var model = r.Model.Model;
        var outputs = model.Outputs;
        var predictions = new TextPredictionDto[r.Scores.Length / outputs];
        for (var i = 0; i < predictions.Length; i++)
        {
            var row = r.Scores.AsSpan(i * outputs, outputs);
            if (model.Task == TextTask.Regress)
            {
                predictions[i] = new TextPredictionDto(null, row[0], null);
                continue;
            }

            var best = 0;
            for (var k = 1; k < row.Length; k++)
            {
                best = row[k] > row[best] ? k : best;
            }

            var probabilities = new Dictionary<string, double>(outputs, StringComparer.Ordinal);
            for (var k = 0; k < row.Length; k++)
            {
                probabilities[model.Classes[k]] = row[k];
            }

            predictions[i] = new TextPredictionDto(model.Classes[best], row[best], probabilities);
        }

        return new TextResponse(r.RequestId, r.Model.Name, r.Model.Version, model.Task == TextTask.Classify ? "classify" : "regress", r.ServedBy, r.Reason,
            r.Family == TextFamily.Encoder ? "encoder" : "baseline", r.BudgetMs,
            new TextTimingsDto(Math.Round(r.ElapsedMs, 3), Math.Round(r.EncoderMs, 3)), predictions);
    }
}

/// <summary>POST /v1/text/edit-need: one document, its paragraphs separated by line breaks.</summary>
public sealed record EditNeedRequest
{
    /// <summary>The document (at most 100,000 characters, 500 paragraphs, 2,000 units).</summary>
    public string? Document { get; init; }

    /// <summary>A registered version to use instead of the active one.</summary>
    public string? Version { get; init; }

    /// <summary>This request's budget in milliseconds (1 to 60000), which can shorten the model's budget but not extend it.</summary>
    public double? BudgetMs { get; init; }
}

/// <summary>One paragraph or sentence of the document: where it is, its predicted word-level edit rate, and whether it is highlighted.</summary>
public sealed record EditNeedUnitDto(int Index, int Paragraph, int Start, int Length, string Text, double Rate, bool Highlighted);

/// <summary>The response of POST /v1/text/edit-need, with the served-path contract.</summary>
/// <param name="ServedBy"><c>model</c> (text features and encoder vectors) or <c>heuristic_fallback</c> (the text features alone).</param>
public sealed record EditNeedResponse(
    string RequestId,
    string ModelVersion,
    string Level,
    ServedBy ServedBy,
    FallbackReason? FallbackReason,
    bool UsedEncoder,
    string? Note,
    double BudgetMs,
    double TotalMs,
    IReadOnlyList<EditNeedUnitDto> Units);

/// <summary>An active text model as GET /v1/text shows it.</summary>
public sealed record TextModelDto(string Name, string Version, string Task, IReadOnlyList<string> Classes, string? Encoder, bool EncoderAvailable, int BudgetMs);

/// <summary>POST /v1/text/{name} and GET /v1/text: text classification and regression with the TF-IDF baseline as the last hope.</summary>
public static class TextApi
{
    public static IEndpointRouteBuilder MapTextApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/text/{name}", ScoreAsync)
            .WithName("ScoreText")
            .WithSummary("Classify or score one text or a batch with a registered text model, within its budget, never blank")
            .WithDescription("The model's sentence-encoder family (all-MiniLM-L6-v2 vectors with a linear or tree head) answers within the budget; past it, on an error, an open circuit, or where the host has no encoder, the model's TF-IDF baseline answers every text of the request. servedBy, fallbackReason and family say which.")
            .Produces<TextResponse>()
            .WithBodyProblems()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .RequireScope(Scopes.Rank)
            .ReadsBodyFirst()
            .BehindServingDoor();
        app.MapPost("/text/edit-need", EditNeedAsync)
            .WithName("EditNeed")
            .WithSummary("Predict how much each paragraph (or sentence) of a document needs editing, and highlight the ones that need it most")
            .WithDescription("The edit-need model's trees predict each unit's word-level edit rate (Levenshtein over tokens divided by the original's length) from text features and the sentence encoder's vectors within the budget; past it, on an error or without the encoder, from the text features alone. The top share of units by predicted rate is highlighted. Measured precision of those highlights is in docs/models.md: read it before promising anything.")
            .Produces<EditNeedResponse>()
            .WithBodyProblems()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .RequireScope(Scopes.Rank)
            .ReadsBodyFirst()
            .BehindServingDoor();
        app.MapGet("/text", List)
            .WithName("ListTextModels")
            .WithSummary("The active text models: name, version, task, classes and encoder")
            .RequireAuthorization(AccessRules.AnyKey);
        return app;
    }

    public static async Task<Results<Ok<TextResponse>, ValidationProblem, ProblemHttpResult>> ScoreAsync(
        string name, TextRequest request, TextModelRegistry registry, TextService service, LimitsOptions limits, HttpContext http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(limits);
        var arrival = http.Items.TryGetValue(RankApi.ArrivalKey, out var value) && value is long timestamp ? timestamp : Stopwatch.GetTimestamp();
        var parameters = new Parameters();
        parameters.Id("route.name", name);
        parameters.Id("version", request.Version, required: false);
        if (request.BudgetMs is { } budget && !(budget is >= 1 and <= 60_000))
        {
            parameters.Add("budgetMs", "budgetMs must be 1 to 60000.");
        }

        var texts = request.Text is { } single ? [single] : request.Texts;
        if (request.Text is not null && request.Texts is not null || texts is null || texts.Count == 0)
        {
            parameters.Add("text", "give one text as text, or a non-empty texts array, not both.");
        }
        else if (texts.Count > limits.MaxTextBatch)
        {
            parameters.Add("texts", $"at most {limits.MaxTextBatch} texts (Limits:MaxTextBatch).");
        }
        else
        {
            for (var i = 0; i < texts.Count && parameters.Errors.Count < 20; i++)
            {
                var field = request.Text is not null ? "text" : $"texts[{i}]";
                if (string.IsNullOrWhiteSpace(texts[i]))
                {
                    parameters.Add(field, "a text must not be empty.");
                }
                else if (texts[i]!.Length > limits.MaxTextLength)
                {
                    parameters.Add(field, $"a text is at most {limits.MaxTextLength} characters (Limits:MaxTextLength); this one has {texts[i]!.Length}.");
                }
            }
        }

        if (!parameters.Valid)
        {
            return parameters.Problem("Invalid text request");
        }

        ServedTextModel? model;
        try
        {
            model = request.Version is { } version ? await registry.GetAsync(version, cancellationToken) : registry.Active(name);
        }
        catch (ModelRejectedException e)
        {
            return TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Text model unusable");
        }

        if (model is null || model.Name != name)
        {
            return request.Version is null
                ? Problems.NotFound("route.name", "Text model not found", $"No text model '{Ids.Printable(name)}' is active.")
                : Problems.NotFound("version", "Text model version not found", $"No version '{Ids.Printable(request.Version)}' of text model '{Ids.Printable(name)}' is registered.");
        }

        var command = new TextCommand(Guid.CreateVersion7().ToString("N"), [.. texts!.Select(t => t!)], request.BudgetMs);
        return TypedResults.Ok(TextResponse.Of(await service.ScoreAsync(model, command, arrival, cancellationToken)));
    }

    public static async Task<Results<Ok<EditNeedResponse>, ValidationProblem, ProblemHttpResult>> EditNeedAsync(
        EditNeedRequest request, EditNeedRegistry registry, TextService service, HttpContext http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var arrival = http.Items.TryGetValue(RankApi.ArrivalKey, out var value) && value is long timestamp ? timestamp : Stopwatch.GetTimestamp();
        var parameters = new Parameters();
        parameters.Id("version", request.Version, required: false);
        if (request.BudgetMs is { } budget && !(budget is >= 1 and <= 60_000))
        {
            parameters.Add("budgetMs", "budgetMs must be 1 to 60000.");
        }

        if (request.Document is null or { Length: > EditNeedModel.MaxDocumentChars })
        {
            parameters.Add("document", $"give the document as text of at most {EditNeedModel.MaxDocumentChars:N0} characters.");
        }

        if (!parameters.Valid)
        {
            return parameters.Problem("Invalid edit-need request");
        }

        ServedEditNeedModel? model;
        try
        {
            model = request.Version is { } version ? await registry.GetAsync(version, cancellationToken) : registry.Active(ServedEditNeedModel.ModelName);
        }
        catch (ModelRejectedException e)
        {
            return TypedResults.Problem(detail: e.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "Edit-need model unusable");
        }

        if (model is null)
        {
            return request.Version is null
                ? Problems.NotFound("route", "Edit-need model not found", "No edit-need model is active: train one with lasthope train-edit-need and register it.")
                : Problems.NotFound("version", "Edit-need model version not found", $"No edit-need model '{Ids.Printable(request.Version)}' is registered.");
        }

        if (EditNeedModel.Problem(request.Document, model.Model.Level) is { } problem)
        {
            parameters.Add("document", problem + ".");
            return parameters.Problem("Invalid edit-need request");
        }

        var result = await service.EditNeedAsync(model, Guid.CreateVersion7().ToString("N"), request.Document!, request.BudgetMs, arrival, cancellationToken);
        return TypedResults.Ok(new EditNeedResponse(result.RequestId, model.Version, model.Model.Level == EditNeedLevel.Sentence ? "sentence" : "paragraph",
            result.ServedBy, result.Reason, result.Prediction.UsedEncoder, result.Prediction.Note, result.BudgetMs, Math.Round(result.ElapsedMs, 3),
            [.. result.Prediction.Units.Select(u => new EditNeedUnitDto(u.Index, u.Paragraph, u.Start, u.Length, u.Text, u.Rate, u.Highlighted))]));
    }

    public static Ok<TextModelDto[]> List(TextModelRegistry registry) =>
        TypedResults.Ok(registry.ActivePackages.Values.OrderBy(m => m.Name, StringComparer.Ordinal)
            .Select(m => new TextModelDto(m.Name, m.Version, m.Model.Task == TextTask.Classify ? "classify" : "regress", m.Model.Classes, m.Model.EncoderName, m.Model.Encoder is not null, m.Model.BudgetMs))
            .ToArray());
}
