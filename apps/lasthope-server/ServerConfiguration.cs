using Lasthope.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lasthope.ServerHost;

/// <summary>
/// The server's setup from ASP.NET Core's usual sources, later ones winning: <c>appsettings.json</c> and
/// <c>appsettings.{Environment}.json</c> in the current directory, the JSON file of <c>--config</c>, environment
/// variables (<c>Lasthope__Storage__Backend=postgres</c>, <c>ASPNETCORE_URLS</c>), then the command line
/// (<c>--Lasthope:Storage:Backend=postgres</c>). The options of <c>lasthope serve</c> that a server in production needs
/// are there too: <c>--data</c>, <c>--urls</c>, <c>--config</c>, <c>--log-level</c>.
/// </summary>
internal static class ServerConfiguration
{
    public const string Usage =
        """
        usage: lasthope-server [--data DIR] [--urls URLS] [--config FILE] [--log-level LEVEL] [--KEY=VALUE ...]

        Runs the Lasthope ranking service (HTTP API, metrics, health) until Ctrl+C or SIGTERM.

          --data DIR         Data directory of the embedded store (Lasthope:Storage:DataDirectory, default ./data).
          --urls URLS        Where to listen, ';'-separated (default http://127.0.0.1:8080; ASPNETCORE_URLS too).
          --config FILE      A JSON configuration file with a "Lasthope" section.
          --log-level LEVEL  Minimum log level: Trace, Debug, Information (default), Warning, Error, Critical, None
                             (ASP.NET Core's own categories log from Warning: Logging:LogLevel:Microsoft.AspNetCore).
          --KEY=VALUE        Any setting, as --Lasthope:Storage:Backend=postgres (environment: Lasthope__Storage__Backend).

        Settings are read from appsettings.json and appsettings.{Environment}.json in the current directory, the
        --config file, environment variables and the command line, later ones winning (the README's configuration
        reference lists them). Exit codes: 0 stopped, 1 store unavailable or address taken, 2 invalid configuration.

        """;

    private const string DefaultUrls = "http://127.0.0.1:8080";

    // As ASP.NET Core's templates: a line per request at Information would cost more than the request on a small machine.
    private static readonly Dictionary<string, string?> Defaults = new() { ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning" };

    // Only these sections reach the server: the environment holds much else.
    private static readonly string[] Sections = ["Lasthope", "Logging"];

    public static bool AsksForHelp(IReadOnlyList<string> args) => args.Any(a => a is "--help" or "-h" or "-?");

    /// <summary>Reads <paramref name="args"/> and the configuration sources; a malformed argument or file, or an unknown log level, throws.</summary>
    public static ServerSetup Read(string[] args, Action<IServiceCollection> configureServices)
    {
        var commandLine = new ConfigurationBuilder().AddCommandLine(args).Build();
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? Environment.GetEnvironmentVariable("ASPNETCORE_ENVIRONMENT") ?? "Production";
        var builder = new ConfigurationBuilder()
            .SetBasePath(Directory.GetCurrentDirectory())
            .AddInMemoryCollection(Defaults)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true);
        if (commandLine["config"] is { } file)
        {
            builder.AddJsonFile(Path.GetFullPath(file), optional: false);
        }

        var configuration = builder
            .AddEnvironmentVariables("ASPNETCORE_") // ASPNETCORE_URLS is "urls"
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var level = configuration["log-level"] ?? nameof(LogLevel.Information);
        return new ServerSetup
        {
            Urls = configuration["urls"] ?? DefaultUrls,
            DataDirectory = configuration["data"],
            MinimumLogLevel = Enum.TryParse<LogLevel>(level, ignoreCase: true, out var minimum) && Enum.IsDefined(minimum)
                ? minimum
                : throw new ArgumentException($"--log-level must be one of {string.Join(", ", Enum.GetNames<LogLevel>())}, not '{level}'."),
            // The sources above, already layered, as the last word over the server's own (environment variables).
            Settings = Sections
                .SelectMany(section => configuration.GetSection(section).AsEnumerable())
                .Where(setting => setting.Value is not null)
                .ToDictionary(setting => setting.Key, setting => setting.Value, StringComparer.OrdinalIgnoreCase),
            ConfigureServices = configureServices,
        };
    }
}
