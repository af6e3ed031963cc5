using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Lasthope.Client;

/// <summary>An error answer of the API: its status and its problem details.</summary>
public sealed class LasthopeApiException : Exception
{
    public LasthopeApiException()
    {
    }

    public LasthopeApiException(string message)
        : base(message)
    {
    }

    public LasthopeApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LasthopeApiException(HttpStatusCode status, Problem? problem, TimeSpan? retryAfter)
        : base($"{(int)status} {problem?.Title ?? status.ToString()}: {problem?.Detail}")
    {
        Status = status;
        Problem = problem;
        RetryAfter = retryAfter;
    }

    public HttpStatusCode Status { get; }

    public Problem? Problem { get; }

    /// <summary>When to try again, where the server said (429, 503).</summary>
    public TimeSpan? RetryAfter { get; }
}

/// <summary>
/// A typed client of Lasthope's HTTP API (the contract is /openapi/v1.json). It sends the API key as a bearer token
/// when one is given, and turns every error answer into a <see cref="LasthopeApiException"/> carrying the problem details.
/// </summary>
public sealed class LasthopeClient(HttpClient http, string? apiKey = null)
{
    public HttpClient Http { get; } = http;

    public Task<RankResponse> RankAsync(RankRequest request, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Post, "/v1/rank", JsonContent.Create(request, ClientJson.Default.RankRequest), ClientJson.Default.RankResponse, cancellationToken);

    public Task<EventBatchResult> PostEventsAsync(IReadOnlyList<InteractionEvent> events, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Post, "/v1/events", JsonContent.Create(new EventBatch(events), ClientJson.Default.EventBatch), ClientJson.Default.EventBatchResult, cancellationToken);

    /// <summary>Sets items' attributes (each replacing what the item had); an invalid batch stores nothing and throws.</summary>
    public Task<ItemBatchResult> PostItemsAsync(IReadOnlyList<ItemInfo> items, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Post, "/v1/items", JsonContent.Create(new ItemBatch(items), ClientJson.Default.ItemBatch), ClientJson.Default.ItemBatchResult, cancellationToken);

    public Task<ServerStatus> GetStatusAsync(CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Get, "/v1/status", null, ClientJson.Default.ServerStatus, cancellationToken);

    /// <summary>An experiment's readout over the last <paramref name="days"/> days of the server's clock.</summary>
    public Task<ExperimentReadoutResponse> GetExperimentReportAsync(string experimentId, int days = 30, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Get, $"/v1/experiments/{Uri.EscapeDataString(experimentId)}/report?days={days.ToString(CultureInfo.InvariantCulture)}", null, ClientJson.Default.ExperimentReadoutResponse, cancellationToken);

    public Task<ModelInfo[]> ListModelsAsync(CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Get, "/v1/models", null, ClientJson.Default.ModelInfoArray, cancellationToken);

    /// <summary>Registers a model file for a surface (and activates it with <paramref name="activate"/>).</summary>
    public Task<ModelInfo> RegisterModelAsync(byte[] content, string surface, string? version = null, bool activate = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var query = $"/v1/models?surface={Uri.EscapeDataString(surface)}&activate={(activate ? "true" : "false")}" + (version is null ? "" : $"&version={Uri.EscapeDataString(version)}");
        var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return SendAsync(HttpMethod.Post, query, body, ClientJson.Default.ModelInfo, cancellationToken);
    }

    /// <summary>Scores one row or several with the active predictor <paramref name="name"/> (or the request's version).</summary>
    public Task<PredictResponse> PredictAsync(string name, PredictRequest request, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Post, $"/v1/predict/{Uri.EscapeDataString(name)}", JsonContent.Create(request, ClientJson.Default.PredictRequest), ClientJson.Default.PredictResponse, cancellationToken);

    /// <summary>Registers a predictor package (what <c>lasthope train-model --out</c> writes), activating it with <paramref name="activate"/>.</summary>
    public Task<ModelInfo> RegisterPredictorAsync(byte[] package, string? version = null, bool activate = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(package);
        var body = new ByteArrayContent(package);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return SendAsync(HttpMethod.Post, $"/v1/models?activate={(activate ? "true" : "false")}" + (version is null ? "" : $"&version={Uri.EscapeDataString(version)}"), body, ClientJson.Default.ModelInfo, cancellationToken);
    }

    public Task<ModelInfo> ActivateModelAsync(string version, string? surface = null, CancellationToken cancellationToken = default)
        => SendAsync(HttpMethod.Post, $"/v1/models/{Uri.EscapeDataString(version)}/activate" + (surface is null ? "" : $"?surface={Uri.EscapeDataString(surface)}"), null, ClientJson.Default.ModelInfo, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        using var response = await Http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            Problem? problem = null;
            try
            {
                problem = await response.Content.ReadFromJsonAsync(ClientJson.Default.Problem, cancellationToken);
            }
            catch (JsonException)
            {
            }

            var retry = response.Headers.RetryAfter?.Delta
                ?? (response.Headers.TryGetValues("Retry-After", out var values) && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : null);
            throw new LasthopeApiException(response.StatusCode, problem, retry);
        }

        return await response.Content.ReadFromJsonAsync(type, cancellationToken) ?? throw new LasthopeApiException(response.StatusCode, new Problem("Empty response", null, (int)response.StatusCode), null);
    }
}
