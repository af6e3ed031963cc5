using Lasthope.Core.Storage;
using Lasthope.Server.Models;
using Lasthope.Server.Recommend;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Lasthope.Server.Api;

/// <summary>A registered model as the API shows it.</summary>
public sealed record ModelDto(
    string Version,
    string Surface,
    string Kind,
    IReadOnlyList<string> Features,
    string Fingerprint,
    DateTimeOffset RegisteredAt,
    DateTimeOffset? TrainedFrom,
    DateTimeOffset? TrainedTo,
    string? Parameters,
    string? Metrics,
    IReadOnlyList<string> ActiveOn,
    double? WarmUpMs = null)
{
    public static ModelDto Of(ModelRecord r, IReadOnlyDictionary<string, string> active, double? warmUpMs = null) => new(
        r.Version, r.Surface, r.Kind, r.FeatureNames, r.Fingerprint, r.RegisteredAt, r.TrainedFrom, r.TrainedTo, r.Parameters, r.Metrics,
        [.. active.Where(a => a.Value == r.Version).Select(a => a.Key).Order(StringComparer.Ordinal)], warmUpMs);
}

/// <summary>Model registration and activation: POST /v1/models, GET /v1/models, POST /v1/models/{version}/activate.</summary>
public static class ModelsApi
{
    /// <summary>Model files may be much larger than rank requests.</summary>
    public const long MaxModelBytes = 512L * 1024 * 1024;

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/models", RegisterAsync).WithName("RegisterModel");
        app.MapGet("/v1/models", ListAsync).WithName("ListModels");
        app.MapPost("/v1/models/{version}/activate", ActivateAsync).WithName("ActivateModel");
        app.MapPost("/v1/surfaces/{surface}/deactivate", DeactivateAsync).WithName("DeactivateSurface");
        return app;
    }

    /// <summary>
    /// Registers the model file in the body (LightGBM text or XGBoost JSON) for <paramref name="surface"/>; with
    /// <paramref name="activate"/> it is warmed up and swapped in. 422 when the file or its features are refused.
    /// </summary>
    public static async Task<Results<Created<ModelDto>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        HttpContext http, ModelRegistry registry, RecommenderRegistry recommenders, IModelStore store, string? surface, string? version, bool? activate, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(surface))
        {
            return Invalid("surface", "surface is required (?surface=NAME): the surface whose feature set the model must match.");
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxModelBytes;
        }

        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, cancellationToken);
        if (buffer.Length == 0)
        {
            return Invalid("body", "the body must be the model file (LightGBM model.txt or XGBoost JSON).");
        }

        try
        {
            var content = buffer.ToArray();
            var als = RecommenderRegistry.IsAlsModel(content);
            var record = als
                ? await recommenders.RegisterAsync(content, surface, new ModelMetadata(Version: version), cancellationToken)
                : await registry.RegisterAsync(content, surface, new ModelMetadata(Version: version), cancellationToken);
            double? warmUp = null;
            if (activate == true)
            {
                warmUp = (als
                    ? await recommenders.ActivateAsync(surface, record.Version, cancellationToken)
                    : await registry.ActivateAsync(surface, record.Version, cancellationToken)).TotalMilliseconds;
            }

            var active = await store.GetActiveModelsAsync(cancellationToken);
            return TypedResults.Created($"/v1/models/{record.Version}", ModelDto.Of(record, active, warmUp));
        }
        catch (ModelRejectedException e)
        {
            return Refused(e);
        }
    }

    public static async Task<Ok<ModelDto[]>> ListAsync(IModelStore store, CancellationToken cancellationToken)
    {
        var active = await store.GetActiveModelsAsync(cancellationToken);
        var models = await store.ListModelsAsync(cancellationToken);
        return TypedResults.Ok(models.Select(m => ModelDto.Of(m, active)).ToArray());
    }

    /// <summary>Activates a registered model on <paramref name="surface"/> (default: the surface it was registered for).</summary>
    public static async Task<Results<Ok<ModelDto>, NotFound<ProblemDetailsLite>, ProblemHttpResult>> ActivateAsync(
        string version, string? surface, ModelRegistry registry, RecommenderRegistry recommenders, IModelStore store, CancellationToken cancellationToken)
    {
        var record = await store.FindModelAsync(version, cancellationToken);
        if (record is null)
        {
            return TypedResults.NotFound(new ProblemDetailsLite("Model not found", $"No model '{version}' is registered.", 404));
        }

        try
        {
            var warmUp = record.Kind == "als"
                ? await recommenders.ActivateAsync(surface ?? record.Surface, version, cancellationToken)
                : await registry.ActivateAsync(surface ?? record.Surface, version, cancellationToken);
            var active = await store.GetActiveModelsAsync(cancellationToken);
            return TypedResults.Ok(ModelDto.Of(record, active, warmUp.TotalMilliseconds));
        }
        catch (ModelRejectedException e)
        {
            return Refused(e);
        }
    }

    public static async Task<NoContent> DeactivateAsync(string surface, ModelRegistry registry, CancellationToken cancellationToken)
    {
        await registry.ActivateAsync(surface, null, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>422: the file is well-formed HTTP but not a model Lasthope can serve on the surface; "errors" names it.</summary>
    private static ProblemHttpResult Refused(ModelRejectedException e) => TypedResults.Problem(
        detail: e.Message,
        statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "Model refused",
        extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["model"] = [e.Message] } });

    private static ValidationProblem Invalid(string field, string message)
        => TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "Invalid model registration");
}

/// <summary>A small problem body for 404s of named resources.</summary>
public sealed record ProblemDetailsLite(string Title, string Detail, int Status);
