using System.Text.Json.Nodes;
using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// What dapp asks of the engine, in the terms of Podman's own API (docs/compatibility.md "Podman"): a container's
/// libpod spec, a commit's Dockerfile-style changes, and image names as Podman stores them.
/// </summary>
internal static class PodmanSpecs
{
    /// <summary>A mount of another container's volume, taken as a bind of the volume's directory (see <see cref="CreateSpec"/>).</summary>
    public sealed record VolumeMount(string Source, string Destination, bool ReadOnly);

    /// <summary>
    /// The libpod spec of a container: the environment is exactly <paramref name="imageEnv"/> (the image's, as on Docker)
    /// or the one asked for, with none of Podman's defaults (<c>TERM</c>, <c>container</c>), which a commit would keep.
    /// Another container's volumes are bound by their directories: Podman commits a volume taken with
    /// <c>volumes_from</c> into the image's <c>Volumes</c>, Docker does not.
    /// </summary>
    public static JsonObject CreateSpec(CreateContainerParameters p, IList<string>? imageEnv, IReadOnlyList<VolumeMount> volumesFrom)
    {
        var spec = new JsonObject
        {
            ["image"] = p.Image,
            ["unsetenvall"] = true,
            ["env"] = EnvMap(p.Env ?? imageEnv ?? []),
        };
        if (!string.IsNullOrEmpty(p.Name)) spec["name"] = p.Name;
        if (p.Entrypoint is not null)
        {
            spec["entrypoint"] = Strings(p.Entrypoint);
            // As on Docker: an entrypoint given drops the image's command unless a command is given too.
            spec["command"] = Strings(p.Cmd ?? []);
        }
        else if (p.Cmd is not null) spec["command"] = Strings(p.Cmd);
        if (!string.IsNullOrEmpty(p.User)) spec["user"] = p.User;
        if (!string.IsNullOrEmpty(p.WorkingDir)) spec["work_dir"] = p.WorkingDir;
        if (p.Labels is { Count: > 0 } labels) spec["labels"] = new JsonObject(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value)));

        var mounts = new JsonArray();
        foreach (var bind in p.HostConfig?.Binds ?? [])
        {
            var (source, destination, readOnly) = ParseBind(bind);
            mounts.Add((JsonNode)Bind(source, destination, readOnly));
        }
        foreach (var volume in volumesFrom) mounts.Add((JsonNode)Bind(volume.Source, volume.Destination, volume.ReadOnly));
        if (mounts.Count > 0) spec["mounts"] = mounts;
        if (p.Volumes is { Count: > 0 } volumes)
            spec["volumes"] = new JsonArray(volumes.Keys.Select(dest => (JsonNode)new JsonObject { ["Name"] = "", ["Dest"] = dest }).ToArray());
        if (NetworkOf(p.HostConfig?.NetworkMode) is { } network)
            foreach (var (key, value) in network) spec[key] = value?.DeepClone();
        return spec;
    }

    /// <summary>A <c>--network</c> value as libpod's namespace setting; null for the engine's default.</summary>
    private static JsonObject? NetworkOf(string? mode) => mode switch
    {
        null or "" or "default" => null,
        "none" or "host" or "bridge" or "private" => new JsonObject { ["netns"] = new JsonObject { ["nsmode"] = mode } },
        _ when mode.StartsWith("container:", StringComparison.Ordinal) =>
            new JsonObject { ["netns"] = new JsonObject { ["nsmode"] = "container", ["value"] = mode["container:".Length..] } },
        _ => new JsonObject
        {
            ["netns"] = new JsonObject { ["nsmode"] = "bridge" },
            ["Networks"] = new JsonObject { [mode] = new JsonObject() },
        },
    };

    /// <summary>Docker's bind syntax, <c>SOURCE:DEST[:OPTIONS]</c>.</summary>
    internal static (string Source, string Destination, bool ReadOnly) ParseBind(string bind)
    {
        var parts = bind.Split(':');
        if (parts.Length < 2) throw new DappException($"bind mount '{bind}': expected SOURCE:DESTINATION");
        var readOnly = parts.Length > 2 && parts[2].Split(',').Contains("ro");
        return (parts[0], parts[1], readOnly);
    }

    private static JsonObject Bind(string source, string destination, bool readOnly) => new()
    {
        ["destination"] = destination,
        ["source"] = source,
        ["type"] = "bind",
        ["options"] = readOnly ? new JsonArray("rbind", "ro") : new JsonArray("rbind"),
    };

    private static JsonObject EnvMap(IEnumerable<string> env)
    {
        var map = new JsonObject();
        foreach (var entry in env)
        {
            var eq = entry.IndexOf('=');
            if (eq > 0) map[entry[..eq]] = entry[(eq + 1)..];
        }
        return map;
    }

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)v).ToArray());

    /// <summary>
    /// The commit's config as Dockerfile-style changes, one value each. Podman's change parser takes
    /// <c>KEY="VALUE"</c> with one pair of quotes stripped and nothing unescaped (measured: quotes, spaces, newlines,
    /// <c>$</c>, backslashes and empty values come through), so every value is written so. Podman keeps the container's
    /// entrypoint and command unless told: both are always given. What it cannot carry (a healthcheck other than the
    /// base image's) the check after the commit finds.
    /// </summary>
    public static IReadOnlyList<string> CommitChanges(CommitContainerChangesParameters config)
    {
        var changes = new List<string>
        {
            "ENTRYPOINT " + Strings(config.Entrypoint ?? []).ToJsonString(),
            "CMD " + Strings(config.Cmd ?? []).ToJsonString(),
        };
        foreach (var entry in config.Env ?? [])
        {
            var eq = entry.IndexOf('=');
            if (eq > 0) changes.Add($"ENV {entry[..eq]}=\"{entry[(eq + 1)..]}\"");
        }
        foreach (var (key, value) in (config.Labels ?? new Dictionary<string, string>()).OrderBy(l => l.Key, StringComparer.Ordinal))
            changes.Add($"LABEL \"{key}\"=\"{value}\"");
        if (!string.IsNullOrEmpty(config.User)) changes.Add("USER " + config.User);
        if (!string.IsNullOrEmpty(config.WorkingDir)) changes.Add("WORKDIR " + config.WorkingDir);
        foreach (var port in (config.ExposedPorts?.Keys ?? []).Order(StringComparer.Ordinal)) changes.Add("EXPOSE " + port);
        foreach (var volume in (config.Volumes?.Keys ?? []).Order(StringComparer.Ordinal)) changes.Add("VOLUME " + Strings([volume]).ToJsonString());
        foreach (var trigger in config.OnBuild ?? []) changes.Add("ONBUILD " + trigger);
        if (!string.IsNullOrEmpty(config.StopSignal)) changes.Add("STOPSIGNAL " + config.StopSignal);
        return changes;
    }

    /// <summary>
    /// An image name as Podman's Docker-compatible API stores it: a name without a registry is Docker Hub's
    /// (<c>docker.io/library/NAME</c>), as Docker reads it; Podman's own API would put it under <c>localhost/</c>.
    /// </summary>
    public static string Qualified(string repository)
    {
        var slash = repository.IndexOf('/');
        var first = slash < 0 ? "" : repository[..slash];
        if (slash >= 0 && (first.Contains('.') || first.Contains(':') || first == "localhost")) return repository;
        return slash < 0 ? "docker.io/library/" + repository : "docker.io/" + repository;
    }

    /// <summary>An image's names as Docker shows them (<see cref="Familiar(string)"/>).</summary>
    public static IList<string> Familiar(IEnumerable<string> names) => names.Select(Familiar).ToList();

    /// <summary>An image ID with its algorithm: Podman's history and commit answer the bare hex digest.</summary>
    public static string WithAlgorithm(string id) => id.Length == 64 && !id.Contains(':') ? "sha256:" + id : id;

    /// <summary>The name as Docker shows it (<see cref="Qualified"/> undone): Podman lists <c>docker.io/library/NAME:TAG</c>.</summary>
    public static string Familiar(string name) =>
        name.StartsWith("docker.io/library/", StringComparison.Ordinal) && name.IndexOf('/', "docker.io/library/".Length) < 0 ? name["docker.io/library/".Length..]
        : name.StartsWith("docker.io/", StringComparison.Ordinal) ? name["docker.io/".Length..]
        : name;
}
