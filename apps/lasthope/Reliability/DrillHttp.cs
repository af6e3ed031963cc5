using System.Net;
using System.Text;
using System.Text.Json;

namespace Lasthope.Cli.Reliability;

/// <summary>Small HTTP helpers the drills share: JSON in and out, each call bounded by a timeout.</summary>
internal static class DrillHttp
{
    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostJsonAsync(HttpClient http, string path, string json, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        return await SendAsync(http, new HttpRequestMessage(HttpMethod.Post, path) { Content = content }, timeout, cancellationToken);
    }

    public static Task<(HttpStatusCode Status, JsonElement Body)> GetJsonAsync(HttpClient http, string path, TimeSpan timeout, CancellationToken cancellationToken)
        => SendAsync(http, new HttpRequestMessage(HttpMethod.Get, path), timeout, cancellationToken);

    /// <summary>True when /health/live answers 200 within <paramref name="timeout"/>.</summary>
    public static async Task<bool> IsLiveAsync(HttpClient http, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            return (await GetJsonAsync(http, "/health/live", timeout, cancellationToken)).Status == HttpStatusCode.OK;
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Sends and reads the whole answer; a body that is not JSON comes back as a JSON string of its text. Throws <see cref="TimeoutException"/> past <paramref name="timeout"/>.</summary>
    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpClient http, HttpRequestMessage request, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var message = request;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(message, deadline.Token);
            var text = await response.Content.ReadAsStringAsync(deadline.Token);
            JsonElement body = default;
            try
            {
                if (text.Length > 0)
                {
                    using var document = JsonDocument.Parse(text);
                    body = document.RootElement.Clone();
                }
            }
            catch (JsonException)
            {
                body = JsonSerializer.SerializeToElement(text);
            }

            return (response.StatusCode, body);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{request.Method} {request.RequestUri} got no answer within {timeout.TotalSeconds:F0} s");
        }
    }
}
