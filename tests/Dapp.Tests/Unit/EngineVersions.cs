namespace Dapp.Tests.Unit;

/// <summary>The <c>/version</c> answers of the engines dapp tells apart, for loopback servers that stand in for them.</summary>
internal static class EngineVersions
{
    public const string Podman = """{"Version":"4.3.1","ApiVersion":"1.41","Components":[{"Name":"Podman Engine","Version":"4.3.1"}]}""";

    public const string Docker = """{"Version":"20.10.24","ApiVersion":"1.41","Components":[{"Name":"Engine","Version":"20.10.24"}]}""";
}
