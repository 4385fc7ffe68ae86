// The SpiffWorkflow extension elements our diagrams carry (spiffworkflow:properties / property /
// messageVariable), described for bpmn-moddle so that the editor can read and write them as objects
// instead of opaque XML. Element names follow tagAlias "lowerCase": Properties → <spiffworkflow:properties>.
window.SPIFF_MODDLE = {
  name: "SpiffWorkflow",
  prefix: "spiffworkflow",
  uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
  xml: { tagAlias: "lowerCase" },
  associations: [],
  types: [
    { name: "Properties", superClass: ["Element"],
      properties: [{ name: "properties", type: "Property", isMany: true }] },
    { name: "Property", superClass: ["Element"],
      properties: [{ name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
    { name: "MessageVariable", superClass: ["Element"],
      properties: [{ name: "value", type: "String", isBody: true }] },
  ],
};
