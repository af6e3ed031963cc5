using Lasthope.Core.Identifiers;
using Lasthope.Core.Storage;
using Lasthope.Server.Cascade;
using Lasthope.Server.Configuration;
using Lasthope.Server.Models;
using Lasthope.Server.Predict;
using Lasthope.Server.Recommend;
using Lasthope.Server.Security;
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

/// <summary>
/// One model upload at a time: a second one, while the first is received and parsed, gets 429 at once, so uploads
/// cannot add up to more memory or disk than one model's worth.
/// </summary>
public sealed class ModelUploadGate
{
    private int _busy;

    public bool TryEnter() => Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    public void Exit() => Volatile.Write(ref _busy, 0);
}

/// <summary>Model registration and activation: POST /v1/models, GET /v1/models, POST /v1/models/{version}/activate.</summary>
public static class ModelsApi
{
    private const int CopyBufferBytes = 64 * 1024; // below the large-object heap

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/models", RegisterAsync)
            .WithName("RegisterModel")
            .WithSummary("Register a model file for a surface, and optionally activate it")
            .WithDescription("The body is the model file: LightGBM model.txt, XGBoost JSON, or a Lasthope ALS file, told apart by content. A re-ranker's features must be built-in or configured request features of the surface. With activate=true it is warmed up on recent requests and swapped in atomically. Streamed to a temporary file; past Limits:MaxModelBytes it is 413 at once; one upload at a time.")
            .Accepts<Stream>("application/octet-stream", "text/plain", "application/json")
            .Produces<ModelDto>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireScope(Scopes.Admin)
            .RequireRateLimiting(ClientRateLimits.AdminPolicy);
        app.MapGet("/models", ListAsync)
            .WithName("ListModels")
            .WithSummary("Registered models, newest first, and where each is active")
            .RequireAuthorization(AccessRules.AnyKey);
        app.MapPost("/models/{version}/activate", ActivateAsync)
            .WithName("ActivateModel")
            .WithSummary("Activate a registered model on a surface (warm-up, then an atomic swap)")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireScope(Scopes.Admin)
            .RequireRateLimiting(ClientRateLimits.AdminPolicy);
        app.MapPost("/surfaces/{surface}/deactivate", DeactivateAsync)
            .WithName("DeactivateSurface")
            .WithSummary("Serve a surface with the heuristic only")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .RequireScope(Scopes.Admin)
            .RequireRateLimiting(ClientRateLimits.AdminPolicy);
        return app;
    }

    /// <summary>
    /// Registers the model file in the body (LightGBM text, XGBoost JSON or a Lasthope ALS file) for
    /// <paramref name="surface"/>; with <paramref name="activate"/> it is warmed up and swapped in. The body is
    /// streamed to a temporary file, never buffered whole in memory; past <see cref="LimitsOptions.MaxModelBytes"/>
    /// it is refused with 413 at once; one upload is processed at a time (429 for the others). 422 when the file or
    /// its features are refused.
    /// </summary>
    public static async Task<Results<Created<ModelDto>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        HttpContext http, ModelRegistry registry, RecommenderRegistry recommenders, IEnumerable<IPackageRegistry> packages, IModelStore store, SurfaceCatalog surfaces, LimitsOptions limits, ModelUploadGate uploads,
        string? surface, string? version, string? activate, CancellationToken cancellationToken)
    {
        var parameters = new Parameters();
        if (surface is not null && (surfaces.Resolve(surface, SurfaceCatalog.Default, out var problem) is null || surfaces.UnknownAsDefault && !surfaces.Names.Contains(surface)))
        {
            parameters.Add("query.surface", problem ?? $"unknown surface '{Ids.Printable(surface)}': a model is registered for a configured surface.");
        }

        parameters.Id("query.version", version, required: false);
        var activateNow = parameters.Bool("activate", activate);
        if (!parameters.Valid)
        {
            return parameters.Problem("Invalid model registration");
        }

        if (http.Request.ContentLength > limits.MaxModelBytes)
        {
            return TooLarge(limits);
        }

        if (!uploads.TryEnter())
        {
            return Problems.TooMany(http, "Another model upload is in progress; one is processed at a time.", retryAfterSeconds: 5);
        }

        try
        {
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeLimit)
            {
                sizeLimit.MaxRequestBodySize = limits.MaxModelBytes; // Kestrel answers 413 the moment the body passes it
            }

            byte[] content;
            var path = Path.Combine(Path.GetTempPath(), $"lasthope-upload-{Guid.NewGuid():N}");
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, CopyBufferBytes, FileOptions.DeleteOnClose | FileOptions.Asynchronous))
            {
                await http.Request.Body.CopyToAsync(file, CopyBufferBytes, cancellationToken);
                if (file.Length == 0)
                {
                    return Invalid("body", "the body must be the model file (LightGBM model.txt, XGBoost JSON or a Lasthope ALS file).");
                }

                // Within the limit: one array of exactly the file's size, for the parser and the store.
                content = new byte[file.Length];
                file.Position = 0;
                await file.ReadExactlyAsync(content, cancellationToken);
            }

            if (packages.FirstOrDefault(p => p.Recognises(content)) is { } package)
            {
                return await RegisterPackageAsync(content, version, activateNow, package, store, cancellationToken);
            }

            if (surface is null)
            {
                return Invalid("query.surface", "surface is required (?surface=NAME) for a re-ranker or a recommender: the surface whose feature set the model must match.");
            }

            return await RegisterContentAsync(content, surface, version, activateNow, registry, recommenders, store, cancellationToken);
        }
        finally
        {
            uploads.Exit();
        }
    }

    private static async Task<Results<Created<ModelDto>, ValidationProblem, ProblemHttpResult>> RegisterContentAsync(
        byte[] content, string surface, string? version, bool activate, ModelRegistry registry, RecommenderRegistry recommenders, IModelStore store, CancellationToken cancellationToken)
    {
        try
        {
            var als = RecommenderRegistry.IsAlsModel(content);
            var record = als
                ? await recommenders.RegisterAsync(content, surface, new ModelMetadata(Version: version), cancellationToken)
                : await registry.RegisterAsync(content, surface, new ModelMetadata(Version: version), cancellationToken);
            double? warmUp = null;
            if (activate)
            {
                warmUp = (als
                    ? await recommenders.ActivateAsync(surface, record.Version, cancellationToken)
                    : await registry.ActivateAsync(surface, record.Version, cancellationToken)).TotalMilliseconds;
            }

            var active = await store.GetActiveModelsAsync(cancellationToken);
            return TypedResults.Created($"/v1/models/{Uri.EscapeDataString(record.Version)}", ModelDto.Of(record, active, warmUp));
        }
        catch (ModelRejectedException e)
        {
            return Refused(e);
        }
    }

    /// <summary>A self-describing package (a predictor, a text model...): its registry recognised it by content.</summary>
    private static async Task<Results<Created<ModelDto>, ValidationProblem, ProblemHttpResult>> RegisterPackageAsync(
        byte[] content, string? version, bool activate, IPackageRegistry packages, IModelStore store, CancellationToken cancellationToken)
    {
        try
        {
            var record = await packages.RegisterAsync(content, new ModelMetadata(Version: version), activate, cancellationToken);
            var active = await store.GetActiveModelsAsync(cancellationToken);
            return TypedResults.Created($"/v1/models/{Uri.EscapeDataString(record.Version)}", ModelDto.Of(record, active));
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
    public static async Task<Results<Ok<ModelDto>, ValidationProblem, ProblemHttpResult>> ActivateAsync(
        string version, string? surface, ModelRegistry registry, RecommenderRegistry recommenders, IEnumerable<IPackageRegistry> packages, IModelStore store, SurfaceCatalog surfaces, CancellationToken cancellationToken)
    {
        var parameters = new Parameters();
        parameters.Id("route.version", version);
        if (surface is not null && !surfaces.Names.Contains(surface))
        {
            parameters.Add("query.surface", $"unknown surface '{Ids.Printable(surface)}'; this server serves {string.Join(", ", surfaces.Names.Order(StringComparer.Ordinal))}.");
        }

        if (!parameters.Valid)
        {
            return parameters.Problem("Invalid activation");
        }

        var record = await store.FindModelAsync(version, cancellationToken);
        if (record is null)
        {
            return Problems.NotFound("route.version", "Model not found", $"No model '{version}' is registered.");
        }

        if (packages.FirstOrDefault(p => p.Kind == record.Kind) is { } package)
        {
            try
            {
                await package.ActivateAsync(version, cancellationToken);
                return TypedResults.Ok(ModelDto.Of(record with { Content = [] }, await store.GetActiveModelsAsync(cancellationToken)));
            }
            catch (ModelRejectedException e)
            {
                return Refused(e);
            }
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

    public static async Task<Results<NoContent, ValidationProblem>> DeactivateAsync(string surface, ModelRegistry registry, SurfaceCatalog surfaces, CancellationToken cancellationToken)
    {
        if (!surfaces.Names.Contains(surface))
        {
            var parameters = new Parameters();
            parameters.Add("route.surface", $"unknown surface '{Ids.Printable(surface)}'; this server serves {string.Join(", ", surfaces.Names.Order(StringComparer.Ordinal))}.");
            return parameters.Problem("Invalid deactivation");
        }

        await registry.ActivateAsync(surface, null, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>422: the file is well-formed HTTP but not a model Lasthope can serve on the surface; "errors" names it.</summary>
    private static ProblemHttpResult Refused(ModelRejectedException e) => TypedResults.Problem(
        detail: e.Message,
        statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "Model refused",
        extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["model"] = [e.Message] } });

    private static ProblemHttpResult TooLarge(LimitsOptions limits) => TypedResults.Problem(
        detail: $"The model file is larger than Limits:MaxModelBytes ({limits.MaxModelBytes} bytes).",
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Request body too large",
        extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["body"] = [$"The model file is larger than Limits:MaxModelBytes ({limits.MaxModelBytes} bytes)."] } });

    private static ValidationProblem Invalid(string field, string message)
        => TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "Invalid model registration");
}
