using System.CommandLine;
using Lasthope.Server.Hosting;

namespace Lasthope.Cli.Commands;

/// <summary>Options shared by the commands that work on a data directory.</summary>
internal static class CommonOptions
{
    public static Option<string> Data() => new("--data")
    {
        Description = "Data directory of the embedded store.",
        DefaultValueFactory = _ => "data",
    };

    public static Option<string?> Config() => new("--config")
    {
        Description = "A JSON configuration file with a \"Lasthope\" section (see the README's configuration reference).",
    };

    /// <summary>
    /// An absolute http(s) URL option. System.CommandLine has no built-in conversion to <see cref="Uri"/>, so this one
    /// parses it and reports a bad value as a parse error (exit code 1 with the usage), never an exception.
    /// </summary>
    public static Option<Uri?> Url(string name, string description, string? defaultValue = null)
    {
        var option = new Option<Uri?>(name)
        {
            Description = description,
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 0 ? defaultValue : result.Tokens[0].Value;
                if (text is null)
                {
                    return null;
                }

                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                {
                    return uri;
                }

                result.AddError($"{name}: '{text}' is not an absolute http(s) URL.");
                return null;
            },
        };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => new Uri(defaultValue);
        }

        return option;
    }

    /// <summary>The environment variable that gives <c>--api-key</c> its default.</summary>
    public const string ApiKeyVariable = "LASTHOPE_API_KEY";

    /// <summary>The key a command sends to a server that has API keys configured.</summary>
    public static Option<string?> ApiKey() => new("--api-key")
    {
        Description = $"The API key sent as 'Authorization: Bearer KEY' to a server with keys configured (default: ${ApiKeyVariable}).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(ApiKeyVariable) is { Length: > 0 } key ? key : null,
    };

    /// <summary>A client for a running server, sending <paramref name="apiKey"/> when there is one.</summary>
    public static HttpClient Client(Uri server, string? apiKey, TimeSpan? timeout = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        var client = handler is null ? new HttpClient() : new HttpClient(handler);
        client.BaseAddress = server;
        client.Timeout = timeout ?? TimeSpan.FromSeconds(100);
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>The server setup for a data directory and an optional config file.</summary>
    public static ServerSetup Setup(string data, string? config, string urls = "http://127.0.0.1:8080") => new()
    {
        DataDirectory = data,
        ConfigFile = config,
        Urls = urls,
    };
}
