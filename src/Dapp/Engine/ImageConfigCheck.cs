using Docker.DotNet.Models;

namespace Dapp.Engine;

/// <summary>
/// Whether an image the engine made has the config dapp asked for: an engine that accepts a call but drops labels or
/// instructions must be caught, not shipped with exit 0 (an archive layer's load, Podman's commit).
/// </summary>
internal static class ImageConfigCheck
{
    /// <summary>What differs, in a few words; null when the image is as asked.</summary>
    /// <param name="layers">The image's layers as they must be; null to leave them unchecked.</param>
    /// <param name="envOrdered">Whether the environment's order must be the same too (Podman orders a committed
    /// environment its own way: the same variables, in another order, mean the same).</param>
    /// <param name="rootIsNoWorkingDir">Whether a working directory "/" stands for none (Podman writes "/" for none).</param>
    public static string? Mismatch(ImageInspectResponse? image, IReadOnlyList<string>? layers, CommitContainerChangesParameters config,
        bool envOrdered = true, bool rootIsNoWorkingDir = false)
    {
        if (image is null) return "no image under the config's digest";
        if (layers is not null && !(image.RootFS?.Layers ?? []).SequenceEqual(layers)) return "other layers";
        var loaded = image.Config ?? new DockerOCIImageConfig();
        var labels = loaded.Labels ?? new Dictionary<string, string>();
        if ((config.Labels ?? new Dictionary<string, string>()).FirstOrDefault(l => !labels.TryGetValue(l.Key, out var value) || value != l.Value) is { Key: not null } missing)
            return $"label {missing.Key} missing or changed";
        static bool Same(IEnumerable<string>? a, IEnumerable<string>? b) => (a ?? []).SequenceEqual(b ?? []);
        if (envOrdered ? !Same(loaded.Env, config.Env) : !Same((loaded.Env ?? []).Order(StringComparer.Ordinal), (config.Env ?? []).Order(StringComparer.Ordinal)))
            return "another environment";
        if (!Same(loaded.Entrypoint, config.Entrypoint) || !Same(loaded.Cmd, config.Cmd)) return "another entrypoint or command";
        string WorkingDir(string? dir) => rootIsNoWorkingDir && dir == "/" ? "" : dir ?? "";
        if (WorkingDir(loaded.WorkingDir) != WorkingDir(config.WorkingDir) || (loaded.User ?? "") != (config.User ?? "")) return "another working directory or user";
        static IEnumerable<string> Keys<T>(IDictionary<string, T>? set) => (set?.Keys ?? []).Order(StringComparer.Ordinal);
        if (!Same(Keys(loaded.ExposedPorts), Keys(config.ExposedPorts)) || !Same(Keys(loaded.Volumes), Keys(config.Volumes))) return "other ports or volumes";
        return null;
    }
}
