using Dapp.Config;

namespace Dapp.Commands;

/// <summary>Image naming (docs/image-naming.md): <c>REPO/&lt;dimg&gt;:&lt;tag&gt;</c>, or <c>REPO:&lt;tag&gt;</c> for a nameless dimg.</summary>
public static class DimgImageNames
{
    public static string For(string repo, ImageConfig dimg, string tag) =>
        dimg.Name is null ? $"{repo}:{tag}" : $"{repo}/{dimg.Name}:{tag}";
}
