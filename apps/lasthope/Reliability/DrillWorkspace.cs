using System.Security.Cryptography;
using System.Text.Json;

namespace Lasthope.Cli.Reliability;

/// <summary>
/// A drill's own temporary directory: its data directories, the configuration file its servers read (an API key with
/// every scope, per-client rate limits off, the closed set of surfaces, the model-size limit), and the key the drill
/// sends on every request.
/// Deleted when disposed.
/// </summary>
public sealed class DrillWorkspace : IDisposable
{
    private int _dataDirectories;

    public DrillWorkspace(string root, string drill, ReliabilityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory = Path.Combine(root, $"{drill}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        ApiKey = "reliability-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        ConfigFile = Path.Combine(Directory, "lasthope.json");
        var lasthope = new Dictionary<string, object>
        {
            // Rate limits off: no drill is about them, and per-client limits would turn the fuzz drill's model
            // uploads and the kill drill's event load into 429s before they reach what the drills test.
            ["Security"] = new
            {
                ApiKeys = new[] { new { Name = "reliability", Key = ApiKey, Scopes = new[] { "rank", "events", "admin" } } },
                RateLimits = new { EventsPerSecond = 0, AdminPerSecond = 0 },
            },
            ["Serving"] = new { Surfaces = new Dictionary<string, object> { ["home"] = new { } } },
            ["Limits"] = new { MaxModelBytes = options.MaxModelBytes },
        };
        if (options.Postgres is { } postgres)
        {
            lasthope["Storage"] = new { Backend = "postgres", Postgres = new { ConnectionString = postgres } };
        }

        var config = new Dictionary<string, object> { ["Lasthope"] = lasthope };
        File.WriteAllText(ConfigFile, JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true }));
    }

    public string Directory { get; }

    public string ConfigFile { get; }

    public string ApiKey { get; }

    /// <summary>A new, empty data directory inside the workspace.</summary>
    public string NewDataDirectory()
        => System.IO.Directory.CreateDirectory(Path.Combine(Directory, $"data-{Interlocked.Increment(ref _dataDirectories)}")).FullName;

    /// <summary>Starts a server on <paramref name="dataDirectory"/> with the workspace's configuration.</summary>
    public Task<ServerProcess> StartServerAsync(string dataDirectory, CancellationToken cancellationToken)
        => ServerProcess.StartAsync(dataDirectory, ConfigFile, ApiKey, cancellationToken);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
