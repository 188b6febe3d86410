export interface SideModule {
  name: string;
  packages: string[];
  importers?: RegExp;
  scripts?: string[];
  bundled: string[];
  why: string;
}
export interface StandIn {
  packages: string[];
  stub: string;
  importers?: RegExp;
  scripts?: string[];
  lazyBuiltin?: boolean;
}
export const sideModuleTable: readonly SideModule[];
export const sideModules: readonly string[];
export const otherStandIns: readonly StandIn[];
export const standIns: readonly StandIn[];
