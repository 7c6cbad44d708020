using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Dapp.Registry.Model;

namespace Dapp.Registry.Remote;

/// <summary>
/// Credentials from the Docker config (<c>DAPP_DOCKER_CONFIG</c>, <c>DOCKER_CONFIG</c>, <c>~/.docker</c>): <c>auths</c>
/// entries (<c>auth</c> or <c>identitytoken</c>), and credential helpers from <c>credHelpers</c> / <c>credsStore</c>.
/// </summary>
internal sealed class DockerConfigCredentials(Func<string, string?> environment)
{
    public string ConfigPath
    {
        get
        {
            if (environment("DAPP_DOCKER_CONFIG") is { Length: > 0 } dapp) return ConfigFile(dapp);
            if (environment("DOCKER_CONFIG") is { Length: > 0 } docker) return ConfigFile(docker);
            var home = environment("HOME") is { Length: > 0 } h ? h : System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
            return Path.Combine(home, ".docker", "config.json");
        }
    }

    /// <summary>A path to a dir means its config.json; a path to a file is the file.</summary>
    private static string ConfigFile(string path) => Directory.Exists(path) ? Path.Combine(path, "config.json") : path;

    public async Task<RegistryCredential?> FindAsync(string registry, CancellationToken ct)
    {
        var path = ConfigPath;
        if (!File.Exists(path)) return null;
        DockerConfigFile? config;
        try
        {
            await using var stream = File.OpenRead(path);
            config = await JsonSerializer.DeserializeAsync(stream, RegistryJson.Default.DockerConfigFile, ct);
        }
        catch (JsonException e)
        {
            throw new DappException($"Cannot read the Docker config {path}: {e.Message}");
        }
        if (config is null) return null;

        var keys = KeysFor(registry).ToList();
        var helper = keys.Select(k => config.CredHelpers?.GetValueOrDefault(k)).FirstOrDefault(h => h is not null) ?? config.CredsStore;
        if (helper is not null && await FromHelperAsync(helper, registry, environment("PATH") ?? "", ct) is { } fromHelper) return fromHelper;

        var entry = keys.Select(k => config.Auths?.GetValueOrDefault(k)).FirstOrDefault(a => a is not null);
        if (entry is null) return null;
        string? username = entry.Username, password = entry.Password;
        if (entry.Auth is { Length: > 0 } auth)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            }
            catch (FormatException)
            {
                throw new DappException($"The Docker config {path} has an invalid 'auth' entry for {registry}");
            }
            var colon = decoded.IndexOf(':');
            if (colon < 0) throw new DappException($"The Docker config {path} has an invalid 'auth' entry for {registry}");
            (username, password) = (decoded[..colon], decoded[(colon + 1)..]);
        }
        if (entry.IdentityToken is { Length: > 0 } token) return new RegistryCredential(username ?? "<token>", token, IsIdentityToken: true);
        return username is not null && password is not null ? new RegistryCredential(username, password) : null;
    }

    /// <summary>The keys Docker writes for a registry: the host, with a scheme, and Docker Hub's legacy URL.</summary>
    private static IEnumerable<string> KeysFor(string registry)
    {
        yield return registry;
        yield return "https://" + registry;
        yield return "http://" + registry;
        yield return "https://" + registry + "/v1/";
        yield return "https://" + registry + "/v2/";
        if (registry == Names.RepositoryName.DockerHub)
        {
            yield return "https://index.docker.io/v1/";
            yield return "index.docker.io";
        }
    }

    private static async Task<RegistryCredential?> FromHelperAsync(string helper, string registry, string path, CancellationToken ct)
    {
        var name = "docker-credential-" + helper;
        var executable = Executables.Find(name, path)
            ?? throw new DappException($"The Docker config names the credential helper '{helper}', but {name} is not on PATH");
        var start = new ProcessStartInfo(executable, "get")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new DappException($"Cannot start {executable}");
        var serverUrl = registry == Names.RepositoryName.DockerHub ? "https://index.docker.io/v1/" : registry;
        await process.StandardInput.WriteAsync(serverUrl);
        process.StandardInput.Close();
        var stdout = await process.StandardOutput.ReadToEndAsync(ct);
        var stderr = await process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            if ((stdout + stderr).Contains("credentials not found", StringComparison.OrdinalIgnoreCase)) return null;
            throw new DappException($"The credential helper {name} failed for {registry} (exit code {process.ExitCode})");
        }
        var response = JsonSerializer.Deserialize(stdout, RegistryJson.Default.CredentialHelperResponse);
        if (response?.Secret is not { Length: > 0 } secret) return null;
        return response.Username == "<token>"
            ? new RegistryCredential("<token>", secret, IsIdentityToken: true)
            : new RegistryCredential(response.Username ?? "", secret);
    }
}
