-- A bundle post-processor: every Helm bundle gets a default-deny ingress
-- NetworkPolicy for the namespaces of its components, before checksums are
-- computed (so checksums.txt and signatures cover it).
return {
  bundle = function(files, recipe)
    local namespaces, seen = {}, {}
    for _, c in ipairs(recipe.componentRefs or {}) do
      if c.namespace and not seen[c.namespace] then
        seen[c.namespace] = true
        namespaces[#namespaces + 1] = c.namespace
      end
    end
    table.sort(namespaces)
    local docs = {}
    for _, ns in ipairs(namespaces) do
      docs[#docs + 1] = table.concat({
        "apiVersion: networking.k8s.io/v1",
        "kind: NetworkPolicy",
        "metadata:",
        "  name: default-deny-ingress",
        "  namespace: " .. ns,
        "spec:",
        "  podSelector: {}",
        "  policyTypes:",
        "    - Ingress",
      }, "\n")
    end
    files["extras/networkpolicy.yaml"] = table.concat(docs, "\n---\n") .. "\n"
    return files
  end,
}
