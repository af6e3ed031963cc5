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

    /// <summary>The server setup for a data directory and an optional config file.</summary>
    public static ServerSetup Setup(string data, string? config, string urls = "http://127.0.0.1:8080") => new()
    {
        DataDirectory = data,
        ConfigFile = config,
        Urls = urls,
    };
}
