using Dapp.Engine;

namespace Dapp.Tests.Integration;

/// <summary>Build host B: the second engine started by <c>scripts/services up --engine2</c>.</summary>
public static class SecondEngine
{
    public static string Socket => System.Environment.GetEnvironmentVariable("DAPP_ENGINE2_SOCK") is { Length: > 0 } s ? s : "/tmp/dapp-services/engine2.sock";

    public static string Host => "unix://" + Socket;

    public static async Task EnsureUpAsync()
    {
        using var engine = DockerEngine.Connect(Host);
        try
        {
            await engine.PingAsync(default);
        }
        catch (DappException e)
        {
            throw new InvalidOperationException($"No second engine at {Socket}: run scripts/services up --engine2 first ({e.Message})", e);
        }
    }

    /// <summary>The environment of a dapp or docker process run on host B.</summary>
    public static Dictionary<string, string> Environment(TestProject test) => new() { ["DOCKER_HOST"] = Host, ["DAPP_HOME"] = test.HomeDir + "-b" };
}
