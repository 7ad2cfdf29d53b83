/** An object as HubSpot's CRM v3 API returns it: every property a string or null. */
export interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}
